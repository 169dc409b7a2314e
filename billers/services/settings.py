"""Writes of a biller's Advanced Settings, secrets included."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billers.hooks import settings_saved_notify
from billers.models import Biller, BillerSetting, SettingDefinition
from billers.validators import validate_setting_value
from icintegrations.errors import ApplicationError


def setting_definition_get(*, setting_id: int) -> SettingDefinition:
    try:
        return SettingDefinition.objects.get(pk=setting_id)
    except SettingDefinition.DoesNotExist:
        known = ", ".join(str(pk) for pk in SettingDefinition.objects.values_list("pk", flat=True))
        raise ApplicationError(
            f"Setting {setting_id} is not in the Advanced Settings catalog (known: {known}).",
            code="unknown_setting",
            extra={"setting_id": setting_id},
        ) from None


def setting_value_apply(*, setting: BillerSetting, value: str) -> bool:
    """Put `value` into `setting` (not saved). Returns whether anything changed.

    A secret goes to the encrypted column only; an empty secret is refused
    (to unset one, delete the setting).
    """
    definition = setting.setting
    if definition.is_secret:
        if not value:
            raise ApplicationError(
                f"Setting {definition.id} is a secret and cannot be set to an empty value.",
                code="empty_secret",
            )
        if setting.pk and setting.secret == value and not setting.value:
            return False
        setting.secret = value
        setting.value = ""
        setting.secret_changed_at = timezone.now()
        return True
    try:
        validate_setting_value(definition, value)
    except ValidationError as e:
        raise ApplicationError(
            " ".join(e.messages),
            code=e.code or "invalid_setting_value",
            extra={"setting_id": definition.id},
        ) from None
    if setting.pk and setting.value == value and not setting.secret:
        return False
    setting.value = value
    setting.secret = None
    return True


@transaction.atomic
def biller_setting_set(*, biller: Biller, setting_id: int, value: str) -> BillerSetting:
    """Set one setting of one biller, with the admin's validation. Saved, even
    unchanged, it tells the apps above (billers.hooks): a credential the partner
    refused may work again (the partner's environment set up again)."""
    definition = setting_definition_get(setting_id=setting_id)
    setting = (
        BillerSetting.objects.select_for_update().filter(biller=biller, setting=definition).first()
    ) or BillerSetting(biller=biller, setting=definition)
    if setting_value_apply(setting=setting, value=value):
        setting.save()
    settings_saved_notify(biller_id=biller.pk)
    return setting
