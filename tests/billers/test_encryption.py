import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from billers.models import BillerSetting
from billers.services.settings import biller_setting_set
from icintegrations.crypto import DecryptionError
from tests.billers.factories import BillerFactory

pytestmark = pytest.mark.django_db

SECRET = "partner-api-key-0123456789"


def _raw_secret(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM billers_billersetting WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _store_secret(value=SECRET):
    return biller_setting_set(biller=BillerFactory(), setting_id=13, value=value)


def test_a_secret_is_not_stored_in_plain_text():
    setting = _store_secret()
    raw = _raw_secret(setting.pk)
    assert raw and SECRET not in raw
    assert BillerSetting.objects.get(pk=setting.pk).secret == SECRET


def test_a_wrong_key_raises_instead_of_returning_ciphertext(settings, fernet_key):
    setting = _store_secret()
    settings.ICI_FIELD_ENCRYPTION_KEYS = [fernet_key]
    with pytest.raises(DecryptionError):
        BillerSetting.objects.get(pk=setting.pk)


def test_rotation_reencrypts_with_the_newest_key(settings, fernet_key):
    setting = _store_secret()
    old_key = settings.ICI_FIELD_ENCRYPTION_KEYS[0]
    raw_before = _raw_secret(setting.pk)

    settings.ICI_FIELD_ENCRYPTION_KEYS = [fernet_key, old_key]
    out = io.StringIO()
    call_command("rotate_field_encryption", stdout=out)
    assert "Re-encrypted 1 secret value(s)" in out.getvalue()
    assert _raw_secret(setting.pk) != raw_before

    # The old key can now be dropped: the secret still decrypts with the new one alone.
    settings.ICI_FIELD_ENCRYPTION_KEYS = [fernet_key]
    assert BillerSetting.objects.get(pk=setting.pk).secret == SECRET


def test_rotation_does_not_touch_history_or_plain_values(settings, fernet_key):
    setting = _store_secret()
    history = BillerSetting.history.count()
    settings.ICI_FIELD_ENCRYPTION_KEYS = [fernet_key, *settings.ICI_FIELD_ENCRYPTION_KEYS]
    call_command("rotate_field_encryption", stdout=io.StringIO())
    assert BillerSetting.history.count() == history
    assert BillerSetting.objects.get(pk=setting.pk).value == ""


def test_rotation_without_the_old_key_fails_and_rewrites_nothing(settings, fernet_key):
    first = _store_secret("first-secret")
    second = _store_secret("second-secret")
    raws = {_raw_secret(first.pk), _raw_secret(second.pk)}
    settings.ICI_FIELD_ENCRYPTION_KEYS = [fernet_key]
    with pytest.raises(CommandError, match="Nothing was rewritten"):
        call_command("rotate_field_encryption", stdout=io.StringIO())
    assert {_raw_secret(first.pk), _raw_secret(second.pk)} == raws


def test_a_malformed_key_is_a_clear_configuration_error(settings):
    settings.ICI_FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="key #1 is not a valid Fernet key"):
        _store_secret()


def test_the_audit_history_never_holds_the_secret():
    setting = _store_secret()
    biller_setting_set(biller=setting.biller, setting_id=13, value="replaced-secret-value")
    history = BillerSetting.history.filter(id=setting.pk)
    assert history.count() == 2
    field_names = {f.name for f in BillerSetting.history.model._meta.fields}
    assert "secret" not in field_names
    assert all(row.secret_changed_at for row in history)
