from django.apps import AppConfig


class BillersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billers"
    verbose_name = "Billers"
