from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        # billers sits below payments and cannot call it: it calls these back.
        from billers.hooks import biller_notices_subscribe, settings_saved_subscribe
        from payments.selectors import credential_hold_notices
        from payments.services.holds import credential_hold_on_settings_saved

        settings_saved_subscribe(credential_hold_on_settings_saved)
        biller_notices_subscribe(credential_hold_notices)
