"""The operators' admin of the Data Pump: payments, their deliveries by status
with every partner call, breakers, and the audit trail.

Everything here is read-only: the pump's rows change through its services, never
by editing a form. What a person may do is on a page of its own, with a required
reason kept as an OperatorAction: replay a dead letter, resolve a review item
(mark it posted, or post it again), post a rejected delivery again, retry the
deliveries held for a biller's credentials ("Retry now"), mark a reversal applied.
"""

import json
from typing import TYPE_CHECKING

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
from payments.admin_forms import (
    ACTION_CHOICES,
    Action,
    DeliveryResolveForm,
    HoldRetryForm,
    ReversalApplyForm,
    delivery_actions,
)
from payments.models import (
    CircuitBreaker,
    CredentialHold,
    Delivery,
    DeliveryAttempt,
    OperatorAction,
    Payment,
    Reversal,
    ReversalStatus,
)
from payments.services.holds import credential_hold_retry
from payments.services.operators import delivery_resolve
from payments.services.reversals import reversal_mark_applied


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

    def _operator_page(
        self, request, *, obj, form, title, details, available, submit_label, unavailable=""
    ):
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
            "unavailable": unavailable,
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
    search_fields = ["=payment__payment_guid", "=invoice_number", "=request_id"]
    search_help_text = "A payment GUID, an invoice number or a request id, exactly."
    list_select_related = ["payment", "biller"]
    fields = [
        "kind", "status", "payment", "reversal", "biller", "partner", "invoice_number",
        "attempts", "reads", "next_attempt_at", "lease_until", "snapshot", "last_error",
        "request_id", "created_at", "updated_at", "finished_at",
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


@admin.register(CredentialHold)
class CredentialHoldAdmin(OperatorPagesMixin, ReadOnlyAdmin):
    """Billers whose credentials the partner refused (401/403): their deliveries are
    held, never rejected. "Retry now" lifts the hold and posts them again."""

    change_form_template = "admin/payments/change_form.html"
    list_display = ["biller", "partner", "state", "held", "last_probe_at", "last_error"]
    list_filter = ["partner"]
    list_select_related = ["biller"]
    fields = [
        "biller", "partner", "state", "held", "last_probe_at", "probe", "released_at",
        "last_error", "updated_at",
    ]  # fmt: skip
    readonly_fields = ["state"]

    @admin.display(description="State")
    def state(self, obj):
        if obj.since is None:
            return "credentials accepted (not held)"
        return f"credentials refused since {obj.since:%Y-%m-%d %H:%M} UTC"

    def get_urls(self):
        retry = path(
            "<path:object_id>/retry/",
            self.admin_site.admin_view(self.retry_view),
            name="payments_credentialhold_retry",
        )
        return [retry, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        links = []
        hold = self.get_object(request, unquote(object_id))
        if hold is not None and hold.since and request.user.has_perm("payments.change_delivery"):
            links = [("Retry now", reverse("admin:payments_credentialhold_retry", args=[hold.pk]))]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "operator_links": links}
        )

    def _operator_permission(self, request):
        # Retrying posts deliveries: whoever may act on deliveries may retry them.
        if not request.user.has_perm("payments.change_delivery"):
            raise PermissionDenied

    def retry_view(self, request, object_id):
        self._operator_permission(request)
        hold = get_object_or_404(CredentialHold.objects.select_related("biller"), pk=object_id)
        form = HoldRetryForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                released = credential_hold_retry(
                    biller=hold.biller, user=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as e:
                form.add_error(None, e.message)
            else:
                self.message_user(
                    request, f"{released} held deliveries are posted again.", messages.SUCCESS
                )
                return HttpResponseRedirect(self._change_url(hold))
        return self._operator_page(
            request,
            obj=hold,
            form=form,
            title="Retry the deliveries held for credentials",
            details=[
                ("Biller", hold.biller),
                ("Partner", hold.partner),
                ("State", self.state(hold)),
                ("Held", hold.held),
                ("Last probe", hold.last_probe_at or "-"),
                ("Last error", hold.last_error or "-"),
            ],
            available=hold.since is not None,
            submit_label="Retry now",
            unavailable="Nothing is held: the partner last accepted the credentials.",
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
    list_select_related = ["user", "delivery__payment", "reversal__payment", "biller"]

    @admin.display(description="Delivery, reversal or biller")
    def target(self, obj):
        return _change_link(obj.delivery or obj.reversal or obj.biller)
