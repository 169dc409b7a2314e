"""Invoice files in the admin: what each upload became, its refused rows, its BIF.

Read-only, as the pump's admin: a file changes through its services. A Solutions
Engineer who fixed a biller's mapping can queue a failed file again instead of
asking the partner to send it again.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billers.admin import ReadOnlyAdmin
from invoicefiles.downloads import bif_response
from invoicefiles.models import InvoiceFile
from invoicefiles.selectors import invoice_file_bif
from invoicefiles.services.uploads import invoice_file_requeue

ERRORS_SHOWN = 50


@admin.register(InvoiceFile)
class InvoiceFileAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "biller",
        "original_name",
        "status",
        "rows",
        "accepted",
        "rejected",
        "invoice_count",
        "total_amount",
        "error_code",
    ]
    list_filter = ["status", "biller"]
    search_fields = ["=id", "original_name", "=sha256"]
    date_hierarchy = "created_at"
    list_select_related = ["biller"]
    fields = [
        "id", "biller", "original_name", "size", "sha256", "uploaded_by", "status",
        "encoding", "rows", "accepted", "rejected", "invoice_count", "total_amount",
        "error_code", "error_message", "warnings_list", "refused_rows", "bif_link",
        "created_at", "enqueued_at", "started_at", "finished_at", "pruned_at",
    ]  # fmt: skip
    readonly_fields = ["warnings_list", "refused_rows", "bif_link"]
    actions = ["queue_again"]

    @admin.display(description="Warnings")
    def warnings_list(self, obj):
        return format_html_join("", "<p>{}</p>", ((w,) for w in obj.warnings or [])) or "-"

    @admin.display(description="Refused rows")
    def refused_rows(self, obj):
        errors = list(obj.errors.order_by("line", "id")[: ERRORS_SHOWN + 1])
        if not errors:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.line, e.field, e.message) for e in errors[:ERRORS_SHOWN]),
        )
        more = (
            format_html(
                "<p>The first {} of {} refused rows (all of them: the API's "
                "<code>errors</code>, or the biller portal).</p>",
                ERRORS_SHOWN,
                obj.rejected,
            )
            if len(errors) > ERRORS_SHOWN
            else ""
        )
        return format_html(
            "<table><thead><tr><th>line</th><th>column</th><th>why</th></tr></thead>"
            "<tbody>{}</tbody></table>{}",
            rows,
            more,
        )

    @admin.display(description="BIF")
    def bif_link(self, obj):
        if invoice_file_bif(invoice_file=obj) is None:
            return "-"
        url = reverse("admin:invoicefiles_invoicefile_bif", args=[obj.pk])
        return format_html('<a href="{}">Download the BIF</a>', url)

    def get_urls(self):
        bif = self.admin_site.admin_view(self.bif_view)
        return [
            path("<path:object_id>/bif/", bif, name="invoicefiles_invoicefile_bif"),
            *super().get_urls(),
        ]

    def bif_view(self, request, object_id):
        try:
            invoice_file = get_object_or_404(
                InvoiceFile.objects.select_related("biller"), pk=unquote(object_id)
            )
        except ValidationError:  # not a UUID
            raise Http404 from None
        if not self.has_view_permission(request, invoice_file):
            raise Http404
        name = invoice_file_bif(invoice_file=invoice_file)
        if name is None:
            raise Http404("This file has no BIF.")
        return bif_response(invoice_file=invoice_file, name=name)

    def has_requeue_permission(self, request):
        return request.user.has_perm("invoicefiles.change_invoicefile")

    @admin.action(description="Queue the selected failed files again", permissions=["requeue"])
    def queue_again(self, request, queryset):
        queued = sum(
            invoice_file_requeue(invoice_file=f) for f in queryset.select_related("biller")
        )
        skipped = queryset.count() - queued
        self.message_user(request, f"{queued} file(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} file(s) left as they are: only a failed file whose upload is "
                "still kept is queued again (otherwise the partner must send it again).",
                messages.WARNING,
            )
