from django.apps import AppConfig


class InvoicefilesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "invoicefiles"
    verbose_name = "Invoice files"
