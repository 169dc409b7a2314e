"""The operators' admin of the Data Pump: payments, their deliveries by status
with every partner call, breakers, and the audit trail.

Everything here is read-only: the pump's rows change through its services, never
by editing a form. What a person may do is on a page of its own, with a required
reason kept as an OperatorAction: replay a dead letter, resolve a review item
(mark it posted, or post it again), mark a reversal applied.
"""

import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from billers.admin import ReadOnlyAdmin
from icintegrations.errors import ApplicationError
from payments.models import (
    CircuitBreaker,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    OperatorAction,
    Payment,
    Reversal,
    ReversalStatus,
)
from payments.selectors_operations import DEFAULT_WINDOW, WINDOWS, operations_summary
from payments.services.operators import ALLOWED_FROM, delivery_resolve
from payments.services.reversals import reversal_mark_applied

Action = OperatorAction.Action

# What each choice does, as the operator chooses it (the Action labels say what was done).
ACTION_CHOICES = {
    Action.REPLAY: "Replay: post it to the partner again, with a fresh set of retries",
    Action.MARK_POSTED: "Mark posted: it is in the partner's system already",
    Action.REPOST: "Re-post: it is not in the partner's system; post it again",
}


def delivery_actions(delivery: Delivery) -> list[Action]:
    """The operator actions that fit the delivery's status."""
    return [action for action in ACTION_CHOICES if delivery.status in ALLOWED_FROM[action]]


def _change_link(obj) -> str:
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj)


# -- read-only inlines ------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # The rows belong to the parent: whoever may see it may see them.
        parent = self.admin_site.get_model_admin(self.parent_model)
        return parent.has_view_permission(request, obj)


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    verbose_name_plural = "attempts (every partner call)"
    fields = [
        "kind", "started_at", "outcome", "status_code", "duration_ms", "receipt_number",
        "error_code", "message", "exchange_pretty",
    ]  # fmt: skip
    readonly_fields = ["exchange_pretty"]

    @admin.display(description="Request and answer (redacted)")
    def exchange_pretty(self, obj):
        if not obj.exchange:
            return "-"
        return format_html(
            '<pre style="white-space: pre-wrap; max-width: 60em; max-height: 30em; '
            'overflow: auto">{}</pre>',
            json.dumps(obj.exchange, indent=2, sort_keys=True, ensure_ascii=False),
        )


class OperatorActionInline(ReadOnlyInline):
    model = OperatorAction
    verbose_name_plural = "operator actions (audit trail)"
    fields = ["created_at", "action", "user", "reason", "receipt_number"]
    readonly_fields = ["created_at"]


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fk_name = "payment"
    show_change_link = True
    fields = ["kind", "status", "partner", "attempts", "reads", "next_attempt_at", "last_error"]


# -- the operator pages -------------------------------------------------------------


class DeliveryResolveForm(forms.Form):
    action = forms.ChoiceField(widget=forms.RadioSelect)
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why: kept in the audit trail with your name.",
    )
    receipt_number = forms.CharField(
        label="Partner receipt number",
        max_length=100,
        required=False,
        help_text="For mark posted: the receipt number the partner's system shows, if any.",
    )

    def __init__(self, *args, delivery: Delivery, **kwargs):
        super().__init__(*args, **kwargs)
        fitting = delivery_actions(delivery)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)  # declared above
        action.choices = [(choice.value, ACTION_CHOICES[choice]) for choice in fitting]
        action.error_messages["invalid_choice"] = (
            f"That action does not fit a delivery in status “{delivery.get_status_display()}”."
        )
        if len(fitting) == 1:
            action.initial = fitting[0].value

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's own clean() returns cleaned_data
        if cleaned.get("receipt_number") and cleaned.get("action") != Action.MARK_POSTED:
            self.add_error("receipt_number", "A receipt number goes with mark posted only.")
        return cleaned


class ReversalApplyForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="How and where it was applied: kept in the audit trail with your name.",
    )


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin  # what the mixin is mixed into
else:
    _ModelAdmin = object


class OperatorPagesMixin(_ModelAdmin):
    """A page per object where a person acts on it through a service."""

    operator_template = "admin/payments/operator_action.html"

    def _operator_permission(self, request):
        opts = self.opts
        if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
            raise PermissionDenied

    def _change_url(self, obj):
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def _operator_page(self, request, *, obj, form, title, details, available, submit_label):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": title,
            "details": details,
            "form": form,
            "adminform": helpers.AdminForm(
                form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
            ),
            "errors": helpers.AdminErrorList(form, []),
            "available": available,
            "submit_label": submit_label,
            "change_url": self._change_url(obj),
            "has_view_permission": self.has_view_permission(request, obj),
        }
        return TemplateResponse(request, self.operator_template, context)


# -- the admins ---------------------------------------------------------------------


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "payment_guid",
        "biller",
        "invoice_number",
        "account_number",
        "amount",
        "service_fee",
        "method",
        "payment_source",
        "status",
        "receipt_number",
        "paid_at",
    ]
    list_filter = ["status", "method", "biller", "payment_source"]
    search_fields = ["=payment_guid", "invoice_number", "account_number", "payer_name"]
    date_hierarchy = "paid_at"
    list_select_related = ["biller"]
    fields = [
        "payment_guid", "biller", "invoice", "invoice_number", "account_number", "amount",
        "service_fee", "method", "payment_source", "approval_code", "payer_name", "paid_at",
        "status", "receipt_number", "reversal_link", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = ["reversal_link", "created_at", "updated_at"]
    inlines = [DeliveryInline]

    @admin.display(description="Reversal")
    def reversal_link(self, obj):
        return _change_link(Reversal.objects.filter(payment=obj).first())


@admin.register(Delivery)
class DeliveryAdmin(OperatorPagesMixin, ReadOnlyAdmin):
    change_form_template = "admin/payments/change_form.html"
    list_display = [
        "status", "kind", "partner", "biller", "payment_guid", "invoice_number", "attempts",
        "reads", "next_attempt_at", "last_error", "updated_at",
    ]  # fmt: skip
    list_display_links = ["status", "payment_guid"]
    list_filter = ["status", "partner", "kind", "biller"]
    search_fields = ["=payment__payment_guid", "=invoice_number"]
    search_help_text = "A payment GUID or an invoice number, exactly."
    list_select_related = ["payment", "biller"]
    fields = [
        "kind", "status", "payment", "reversal", "biller", "partner", "invoice_number",
        "attempts", "reads", "next_attempt_at", "lease_until", "snapshot", "last_error",
        "created_at", "updated_at", "finished_at",
    ]  # fmt: skip
    inlines = [DeliveryAttemptInline, OperatorActionInline]

    @admin.display(description="payment GUID", ordering="payment__payment_guid")
    def payment_guid(self, obj):
        return obj.payment.payment_guid

    def get_urls(self):
        resolve = path(
            "<int:object_id>/resolve/",
            self.admin_site.admin_view(self.resolve_view),
            name="payments_delivery_resolve",
        )
        return [resolve, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        links = []
        delivery = self.get_object(request, unquote(object_id))
        if delivery is not None and request.user.has_perm("payments.change_delivery"):
            url = reverse("admin:payments_delivery_resolve", args=[delivery.pk])
            links = [
                (ACTION_CHOICES[action].split(":")[0], f"{url}?action={action.value}")
                for action in delivery_actions(delivery)
            ]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "operator_links": links}
        )

    def resolve_view(self, request, object_id):
        self._operator_permission(request)
        delivery = get_object_or_404(
            Delivery.objects.select_related("payment", "biller"), pk=object_id
        )
        form = DeliveryResolveForm(
            request.POST if request.method == "POST" else None,
            initial={"action": request.GET.get("action")} if "action" in request.GET else None,
            delivery=delivery,
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                delivery = delivery_resolve(
                    delivery=delivery,
                    action=data["action"],
                    user=request.user,
                    reason=data["reason"],
                    receipt_number=data["receipt_number"],
                )
            except ApplicationError as e:
                form.add_error(None, e.message)
            else:
                self.message_user(
                    request,
                    f"{Action(data['action']).label}: the delivery is now "
                    f"“{delivery.get_status_display()}”.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(delivery))
        payment = delivery.payment
        return self._operator_page(
            request,
            obj=delivery,
            form=form,
            title="Resolve a delivery",
            details=[
                ("Payment GUID", payment.payment_guid),
                ("Biller", delivery.biller),
                ("Partner", delivery.partner),
                ("Invoice number", delivery.invoice_number),
                ("Amount", payment.amount),
                ("Status", delivery.get_status_display()),
                ("Attempts", f"{delivery.attempts} posts, {delivery.reads} read-backs"),
                ("Last error", delivery.last_error or "-"),
            ],
            available=bool(delivery_actions(delivery)),
            submit_label="Apply",
        )


@admin.register(Reversal)
class ReversalAdmin(OperatorPagesMixin, ReadOnlyAdmin):
    change_form_template = "admin/payments/change_form.html"
    list_display = [
        "payment_guid", "kind", "return_code", "status", "created_at", "applied_at",
        "applied_by",
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["=payment__payment_guid"]
    list_select_related = ["payment", "applied_by"]
    fields = [
        "payment", "kind", "return_code", "reason", "status", "delivery_link", "created_at",
        "applied_at", "applied_by",
    ]  # fmt: skip
    readonly_fields = ["delivery_link"]
    inlines = [OperatorActionInline]

    @admin.display(description="payment GUID", ordering="payment__payment_guid")
    def payment_guid(self, obj):
        return obj.payment.payment_guid

    @admin.display(description="Delivery to the partner")
    def delivery_link(self, obj):
        return _change_link(Delivery.objects.filter(reversal=obj).first())

    def get_urls(self):
        mark_applied = path(
            "<int:object_id>/mark-applied/",
            self.admin_site.admin_view(self.mark_applied_view),
            name="payments_reversal_mark_applied",
        )
        return [mark_applied, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        links = []
        reversal = self.get_object(request, unquote(object_id))
        if (
            reversal is not None
            and reversal.status == ReversalStatus.TO_APPLY
            and request.user.has_perm("payments.change_reversal")
        ):
            links = [
                (
                    "Mark applied",
                    reverse("admin:payments_reversal_mark_applied", args=[reversal.pk]),
                )
            ]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "operator_links": links}
        )

    def mark_applied_view(self, request, object_id):
        self._operator_permission(request)
        reversal = get_object_or_404(
            Reversal.objects.select_related("payment__biller"), pk=object_id
        )
        form = ReversalApplyForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                reversal = reversal_mark_applied(
                    reversal=reversal, user=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as e:
                form.add_error(None, e.message)
            else:
                self.message_user(request, "The reversal is marked applied.", messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(reversal))
        payment = reversal.payment
        return self._operator_page(
            request,
            obj=reversal,
            form=form,
            title="Mark a reversal applied",
            details=[
                ("Payment GUID", payment.payment_guid),
                ("Biller", payment.biller),
                ("Invoice number", payment.invoice_number),
                ("Amount", payment.amount),
                ("Reversal", reversal.get_kind_display()),
                ("Return code", reversal.return_code or "-"),
                ("Reason given", reversal.reason or "-"),
                ("Status", reversal.get_status_display()),
            ],
            available=reversal.status == ReversalStatus.TO_APPLY,
            submit_label="Mark applied",
        )


@admin.register(CircuitBreaker)
class CircuitBreakerAdmin(ReadOnlyAdmin):
    list_display = [
        "partner",
        "failures",
        "opened_count",
        "open_until",
        "last_failure",
        "updated_at",
    ]


@admin.register(OperatorAction)
class OperatorActionAdmin(ReadOnlyAdmin):
    """What people did to deliveries and reversals, and why."""

    list_display = ["created_at", "action", "user", "target", "reason", "receipt_number"]
    list_filter = ["action", "user"]
    search_fields = ["=delivery__payment__payment_guid", "=reversal__payment__payment_guid"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "delivery__payment", "reversal__payment"]

    @admin.display(description="Delivery or reversal")
    def target(self, obj):
        return _change_link(obj.delivery or obj.reversal)


# -- the operations page ------------------------------------------------------------


def _deliveries_url(partner: str, status: str) -> str:
    query = urlencode({"status__exact": status, "partner__exact": partner})
    return f"{reverse('admin:payments_delivery_changelist')}?{query}"


def operations_view(request):
    """Every partner at a glance over a recent window (staff only: see payments.admin_urls)."""
    window = request.GET.get("window", DEFAULT_WINDOW)
    if window not in WINDOWS:
        window = DEFAULT_WINDOW
    summary = operations_summary(window=window)
    partners = [
        {
            "name": p.partner,
            "sources": [("Real-time calls (RTDR, bills)", p.realtime), ("Data Pump", p.pump)],
            "dead_letters": p.dead_letters,
            "dead_letters_url": _deliveries_url(p.partner, DeliveryStatus.DEAD),
            "review_items": p.review_items,
            "review_items_url": _deliveries_url(p.partner, DeliveryStatus.REVIEW),
            "breaker": p.breaker,
        }
        for p in summary.partners
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "summary": summary,
        "partners": partners,
        "windows": list(WINDOWS),
        "breakers_url": reverse("admin:payments_circuitbreaker_changelist"),
    }
    return TemplateResponse(request, "admin/operations.html", context)
