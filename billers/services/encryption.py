"""Re-encryption of every stored secret with the newest key."""

from django.apps import apps
from django.db import transaction

from icintegrations import crypto
from icintegrations.fields import EncryptedTextField


def encrypted_fields():
    for model in apps.get_models():
        for model_field in model._meta.get_fields():
            if isinstance(model_field, EncryptedTextField):
                yield model, model_field


@transaction.atomic
def field_encryption_rotate() -> int:
    """Re-encrypt every encrypted value with the first key of
    ICI_FIELD_ENCRYPTION_KEYS. All or nothing: a value that no key decrypts
    raises DecryptionError and nothing is rewritten. Returns the rows rewritten."""
    rewritten = 0
    for model, model_field in encrypted_fields():
        column = model_field.attname
        # Read the stored tokens as they are (no decryption on the way out).
        rows = (
            model.objects.exclude(**{f"{column}__isnull": True})
            .exclude(**{column: ""})
            .values_list("pk", flat=True)
        )
        for pk in rows.iterator():
            token = _raw_token(model, model_field, pk)
            rotated = crypto.rotate(token)
            _raw_write(model, model_field, pk, rotated)
            rewritten += 1
    return rewritten


def _raw_token(model, model_field, pk) -> str:
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model_field.column)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])
        return cursor.fetchone()[0]


def _raw_write(model, model_field, pk, token: str) -> None:
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model_field.column)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s", [token, pk])
