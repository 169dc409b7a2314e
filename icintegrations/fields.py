"""Fields shared by the apps: a text field stored encrypted (see
icintegrations.crypto), and the API's strict input fields (money, an instant
with its offset, a canonical UUID), so that every endpoint reads them alike and
the OpenAPI schema documents their form."""

import datetime
import re
import uuid
from decimal import Decimal

from django.db import models
from rest_framework import serializers

from icintegrations import crypto


class EncryptedTextField(models.TextField):
    """Holds a secret: plaintext in Python, a Fernet token in the database.

    Never editable through a generated form (forms of ours write it
    explicitly), so a ModelForm cannot render it back into a page.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)


# --- The API's strict input fields (drf-spectacular documents them: icintegrations.schema) ---

EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
NIL_UUID = uuid.UUID(int=0)


class MoneyField(serializers.Field):
    """A money amount sent as a JSON string ("25.00"), never a number (a float is
    not exact): ASCII digits, at most 10 of them before one optional point and at
    most 2 after, a leading minus when `signed` (the service refuses it with its
    own code). No spaces, sign `+`, exponent or other digits (`"١.٠٠"`)."""

    default_error_messages = {
        "not_a_string": 'Send the amount as a string, e.g. "25.00".',
        "invalid": "Not an amount: ASCII digits (at most 10), then at most two decimals "
        'after a point, e.g. "25.00".',
    }

    def __init__(self, *, signed: bool = False, **kwargs):
        self.signed = signed
        self.pattern = ("-?" if signed else "") + r"[0-9]{1,10}(\.[0-9]{1,2})?"
        self._regex = re.compile(self.pattern)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not self._regex.fullmatch(data):
            self.fail("invalid")
        return Decimal(data)

    def to_representation(self, value) -> str:
        return f"{value:.2f}"


class OffsetDateTimeField(serializers.Field):
    """An instant as ISO 8601 text with its UTC offset (`2026-11-24T05:58:40Z`,
    `...-07:00`), from 2000-01-01T00:00Z on. A date alone, or a time without an
    offset, is refused: the hub will not guess the zone."""

    pattern = (
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})"
    )
    _regex = re.compile(pattern)
    default_error_messages = {
        "invalid": "Not an instant with its UTC offset: send ISO 8601 such as "
        "2026-11-24T10:15:00-05:00 or 2026-11-24T15:15:00Z.",
        "too_early": "Before 2000-01-01T00:00:00Z.",
    }

    def to_internal_value(self, data) -> datetime.datetime:
        if not isinstance(data, str) or not self._regex.fullmatch(data):
            self.fail("invalid")
        try:
            value = datetime.datetime.fromisoformat(data).astimezone(datetime.UTC)
        except (ValueError, OverflowError):
            self.fail("invalid")
        if value < EARLIEST:
            self.fail("too_early")
        return value

    def to_representation(self, value) -> str:
        return value.isoformat()


class CanonicalUUIDField(serializers.Field):
    """A UUID as its canonical text: 8-4-4-4-12 hexadecimal digits with hyphens, in
    lower or upper case. Not a number, not braces or a URN, not the nil UUID."""

    pattern = "-".join(f"[0-9a-fA-F]{{{n}}}" for n in (8, 4, 4, 4, 12))
    _regex = re.compile(pattern)
    default_error_messages = {
        "invalid": "Not a UUID: send its text, e.g. c9e18d52-e770-4935-8da2-9f262c8ba587.",
        "nil": "The nil UUID is not an identifier.",
    }

    def to_internal_value(self, data) -> uuid.UUID:
        if not isinstance(data, str) or not self._regex.fullmatch(data):
            self.fail("invalid")
        value = uuid.UUID(data)
        if value == NIL_UUID:
            self.fail("nil")
        return value

    def to_representation(self, value) -> str:
        return str(value)
