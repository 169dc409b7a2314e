"""The Solutions Engineering admin: billers with their whole configuration,
the catalogs, invoices, and an audit trail of every setting and mapping change."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from billers.forms import BillerSettingForm
from billers.models import (
    ApiClient,
    BifCustomization,
    Biller,
    BillerOption,
    BillerSetting,
    Customer,
    FieldMapping,
    IntegrationOption,
    Invoice,
    InvoiceType,
    SettingDefinition,
)


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
    extra = 0
    fields = [
        "record_type",
        "file_spec_id",
        "ic_field",
        "in_file",
        "required",
        "partner_field",
        "partner_field_label",
        "partner_format",
        "char_limit",
        "rule",
        "rule_value",
        "note",
    ]


@admin.register(Biller)
class BillerAdmin(SimpleHistoryAdmin):
    list_display = ["bid", "name", "partner", "environment", "is_active", "updated_at"]
    list_filter = ["partner", "environment", "is_active"]
    search_fields = ["=bid", "name", "biller_guid"]
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "bid",
        "name",
        "biller_guid",
        "partner",
        "environment",
        "is_active",
        "created_at",
        "updated_at",
    ]
    inlines = [
        BillerSettingInline,
        BillerOptionInline,
        BifCustomizationInline,
        InvoiceTypeInline,
        FieldMappingInline,
    ]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """API clients are created with `manage.py create_api_client` (which shows the
    token once); here they can be scoped to billers or deactivated."""

    list_display = ["name", "token_prefix", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "token_prefix"]
    filter_horizontal = ["billers"]
    readonly_fields = ["token_prefix", "created_at"]

    def has_add_permission(self, request):
        return False


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
