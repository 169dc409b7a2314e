"""The Solutions Engineering admin: billers with their whole configuration,
the catalogs, invoices, and an audit trail of every setting and mapping change."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from billers import (
    admin_api_clients,  # noqa: F401 (API clients: add one, its token once)
    admin_users,  # noqa: F401 (the user page: its portal billers)
)
from billers.admin_documents import BillerDocumentAdminMixin
from billers.admin_golive import BillerGoLiveAdminMixin
from billers.admin_templates import BillerTemplateAdminMixin
from billers.forms import (
    BillerSettingForm,
    ConnectionTestForm,
    FieldMappingForm,
    FieldMappingFormSet,
    FieldMappingRowForm,
    MappingReviewForm,
)
from billers.hooks import biller_notices, settings_saved_notify
from billers.models import (
    BifCustomization,
    Biller,
    BillerMembership,
    BillerOption,
    BillerSetting,
    Customer,
    FieldMapping,
    IntegrationOption,
    Invoice,
    InvoiceType,
    SettingDefinition,
)
from billers.services.document_schema import MAPPING_ROW_FIELDS
from billers.services.mapping_requirements import mapping_row_change_problems
from onboarding.review import mapping_review
from partners.selectors import biller_redactor
from partners.services.connection_test import MISSING_INVOICE, connection_test_run


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def secret_status(obj: BillerSetting) -> str:
    if obj.pk is None or not obj.setting.is_secret:
        return "-"
    if obj.secret_changed_at:
        return f"set (changed {obj.secret_changed_at:%Y-%m-%d %H:%M} UTC)"
    return "not set"


class BillerSettingInline(admin.TabularInline):
    model = BillerSetting
    form = BillerSettingForm
    fields = ["setting", "value", "new_secret", "stored_secret"]
    readonly_fields = ["stored_secret"]
    extra = 0

    def get_queryset(self, request):
        # The secret column is not needed to render the page: leave it undecrypted.
        return super().get_queryset(request).select_related("setting").defer("secret")

    @admin.display(description="Stored secret")
    def stored_secret(self, obj):
        return secret_status(obj)


class BillerOptionInline(admin.TabularInline):
    model = BillerOption
    extra = 0


class BifCustomizationInline(admin.TabularInline):
    model = BifCustomization
    extra = 0


class InvoiceTypeInline(admin.TabularInline):
    model = InvoiceType
    extra = 0


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    formset = FieldMappingFormSet  # refuses a mapping without a required field
    form = FieldMappingRowForm  # compact widgets: a row on two lines (biller_change.css)
    extra = 0
    fields = list(MAPPING_ROW_FIELDS)


class BillerMembershipInline(admin.TabularInline):
    """Biller portal users of this biller (create one with `create_portal_user`)."""

    model = BillerMembership
    extra = 0
    fields = ["user", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]
    verbose_name = "biller portal user"
    verbose_name_plural = "biller portal users"


@admin.register(Biller)
class BillerAdmin(
    BillerGoLiveAdminMixin, BillerDocumentAdminMixin, BillerTemplateAdminMixin, SimpleHistoryAdmin
):
    list_display = ["bid", "name", "partner", "environment", "time_zone", "is_active", "updated_at"]
    list_filter = ["partner", "environment", "is_active"]
    search_fields = ["=bid", "name", "biller_guid"]
    readonly_fields = ["notices", "created_at", "updated_at"]
    fields = [
        "bid",
        "name",
        "biller_guid",
        "partner",
        "environment",
        "time_zone",
        "is_active",
        "notices",
        "overpayment_allowance",
        "maximum_payment",
        "created_at",
        "updated_at",
    ]
    inlines = [
        BillerSettingInline,
        BillerOptionInline,
        BifCustomizationInline,
        InvoiceTypeInline,
        FieldMappingInline,
        BillerMembershipInline,
    ]

    @admin.display(description="Payments")
    def notices(self, obj):
        """What the apps above billers say of it (billers.hooks): e.g. its
        credentials refused by the partner, with the payments held."""
        if obj is None or obj.pk is None:
            return "-"
        return " ".join(biller_notices(obj)) or "-"

    def save_related(self, request, form, formsets, change):
        """Saving the biller's page saves its settings: the apps above are told
        (a credential hold lifts, and the held payments are posted again)."""
        super().save_related(request, form, formsets, change)
        settings_saved_notify(biller_id=form.instance.pk)

    # -- Solutions Engineering tools: a page each, linked from the biller's page ----

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        tools = [
            path(
                "<path:object_id>/mapping-review/",
                self.admin_site.admin_view(self.mapping_review_view),
                name="{}_{}_mapping_review".format(*info),
            ),
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="{}_{}_test_connection".format(*info),
            ),
        ]
        return [*self.document_urls(), *self.go_live_urls(), *tools, *super().get_urls()]

    def _tool_biller(self, request, object_id) -> Biller:
        """The biller of a tool page. The tools call the partner with the biller's
        credentials: they are for whoever may change the biller."""
        biller = self.get_object(request, unquote(object_id))
        if biller is None:
            raise Http404(f"No biller with ID {object_id!r}.")
        if not self.has_change_permission(request, biller):
            raise PermissionDenied
        return biller

    def _tool_page(self, request, biller, template, title, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": biller,
                "title": f"{title}: {biller}",
                "tool_name": title,
                "is_nav_sidebar_enabled": False,  # the page needs the width
                "change_url": reverse("admin:billers_biller_change", args=[biller.pk]),
                **context,
            },
        )

    @staticmethod
    def _shown_form(form_class, request, redact):
        """The form as the page shows it: what was posted, secrets redacted."""
        if request.method != "POST":
            return form_class()
        data = request.POST.copy()
        for name in form_class.base_fields:
            data[name] = redact.text(data.get(name, ""))
        return form_class(data)

    def mapping_review_view(self, request, object_id):
        biller = self._tool_biller(request, object_id)
        form = MappingReviewForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            review = mapping_review(
                biller=biller,
                sample=form.cleaned_data["sample"],
                invoice_number=form.cleaned_data["invoice_number"],
                user=request.user,
            )
        else:
            review = mapping_review(biller=biller)
        return self._tool_page(
            request,
            biller,
            "admin/billers/mapping_review.html",
            "Mapping review",
            form=self._shown_form(MappingReviewForm, request, biller_redactor(biller=biller)),
            review=review,
        )

    def test_connection_view(self, request, object_id):
        biller = self._tool_biller(request, object_id)
        form = ConnectionTestForm(request.POST if request.method == "POST" else None)
        result = None
        if form.is_valid():
            result = connection_test_run(
                biller=biller, invoice_number=form.cleaned_data["invoice_number"], user=request.user
            )
        return self._tool_page(
            request,
            biller,
            "admin/billers/connection_test.html",
            "Test connection",
            form=self._shown_form(ConnectionTestForm, request, biller_redactor(biller=biller)),
            result=result,
            missing_invoice=MISSING_INVOICE,
        )


@admin.register(SettingDefinition)
class SettingDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["id", "description", "kind", "unique_per_biller"]
    list_filter = ["kind"]
    search_fields = ["=id", "description"]


@admin.register(IntegrationOption)
class IntegrationOptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "description"]


@admin.register(FieldMapping)
class FieldMappingAdmin(SimpleHistoryAdmin):
    list_display = [
        "biller",
        "record_type",
        "file_spec_id",
        "ic_field",
        "in_file",
        "required",
        "partner_field",
        "partner_format",
        "rule",
        "rule_value",
    ]
    list_filter = ["biller", "record_type", "rule", "required", "in_file"]
    search_fields = ["=file_spec_id", "ic_field", "partner_field", "partner_field_label"]
    list_select_related = ["biller"]
    form = FieldMappingForm  # refuses a change that leaves a required field unmapped

    def get_actions(self, request):
        # No bulk delete: it would skip the required mapping (a row at a time, or the
        # biller's page, checks it).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        row = self.get_object(request, unquote(object_id))
        problems = mapping_row_change_problems(row_pk=row.pk, new=None) if row else []
        if problems:
            for problem in problems:
                messages.error(request, f"Not deleted: {problem}")
            return HttpResponseRedirect(reverse("admin:billers_fieldmapping_change", args=[row.pk]))
        return super().delete_view(request, object_id, extra_context)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["account_number", "name", "city", "state", "zip", "biller"]
    list_filter = ["biller"]
    search_fields = ["account_number", "name"]
    list_select_related = ["biller"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "invoice_number",
        "biller",
        "customer",
        "total_amount_due",
        "balance_due",
        "past_due",
        "due_date",
        "refreshed_at",
        "refreshed_via",
    ]
    list_filter = ["biller", "refreshed_via"]
    search_fields = ["invoice_number", "customer__account_number", "customer__name"]
    list_select_related = ["biller", "customer"]
    raw_id_fields = ["customer"]
    readonly_fields = ["created_at", "updated_at"]


class AuditAdmin(ReadOnlyAdmin):
    """Who changed what, when: the history rows of one configuration model."""

    list_filter = ["history_type", "history_user"]
    date_hierarchy = "history_date"
    list_select_related = ["history_user"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    @admin.display(description="Changes")
    def changes(self, obj):
        previous = obj.prev_record
        if obj.history_type == "+" or previous is None:
            return "created"
        if obj.history_type == "-":
            return "deleted"
        delta = obj.diff_against(previous)
        return (
            "; ".join(
                f"{change.field}: {change.old!r} → {change.new!r}" for change in delta.changes
            )
            or "saved without changes"
        )


def _register_audit(model, key_fields):
    admin.site.register(
        model.history.model,
        type(
            f"{model.__name__}AuditAdmin",
            (AuditAdmin,),
            {
                "list_display": [
                    "history_date",
                    "history_user",
                    "history_type",
                    "biller",
                    *key_fields,
                    "changes",
                ],
                "list_filter": ["biller", *AuditAdmin.list_filter],
                "list_select_related": ["history_user", "biller"],
            },
        ),
    )


_register_audit(BillerSetting, ["setting"])
_register_audit(FieldMapping, ["file_spec_id", "ic_field"])
_register_audit(BillerOption, ["option"])
_register_audit(BifCustomization, ["name"])
