from django.contrib import admin

from billers.admin import ReadOnlyAdmin
from partners.models import PartnerCall


@admin.register(PartnerCall)
class PartnerCallAdmin(ReadOnlyAdmin):
    """Every real-time partner call, redacted: where a refused credential shows."""

    list_display = [
        "created_at", "biller", "partner", "operation", "invoice_number", "outcome",
        "error_code", "status_code", "duration_ms",
    ]  # fmt: skip
    list_filter = ["outcome", "error_code", "partner", "operation", "biller"]
    search_fields = ["invoice_number", "message"]
    date_hierarchy = "created_at"
    list_select_related = ["biller"]
    fields = [
        "created_at", "biller", "partner", "operation", "invoice_number", "outcome",
        "error_code", "message", "status_code", "duration_ms", "exchange",
    ]  # fmt: skip
