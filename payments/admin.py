from django.contrib import admin

from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "payment_guid",
        "biller",
        "invoice_number",
        "account_number",
        "amount",
        "service_fee",
        "payment_source",
        "status",
        "paid_at",
    ]
    list_filter = ["status", "biller", "payment_source"]
    search_fields = ["=payment_guid", "invoice_number", "account_number", "payer_name"]
    date_hierarchy = "paid_at"
    list_select_related = ["biller"]
    raw_id_fields = ["invoice"]
    readonly_fields = ["created_at", "updated_at"]
