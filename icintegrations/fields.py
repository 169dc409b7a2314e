"""A text field stored encrypted (see icintegrations.crypto)."""

from django.db import models

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
