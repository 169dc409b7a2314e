from django.apps import AppConfig
from django.db.models.signals import post_migrate


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

        # The django-q2 schedules follow the settings at every migrate.
        post_migrate.connect(_schedules_sync, sender=self, dispatch_uid="payments.schedules_sync")


def _schedules_sync(sender, using, **kwargs):
    from icintegrations.schedules import schedules_sync

    schedules_sync(using=using)
