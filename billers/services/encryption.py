"""Re-encryption of every stored secret with the newest key."""

from django.apps import apps
from django.db import connection, transaction

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
    raises DecryptionError and nothing is rewritten. Returns the rows rewritten.

    Works on the stored tokens in SQL, so that neither a model's save() nor its
    history sees the change."""
    rewritten = 0
    for model, model_field in encrypted_fields():
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(model_field.column)
        pk = connection.ops.quote_name(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''"
            )
            rows = [(crypto.rotate(token), key) for key, token in cursor.fetchall()]
            cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", rows)
        rewritten += len(rows)
    return rewritten
