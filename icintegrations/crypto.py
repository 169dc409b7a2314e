"""Encryption of secrets at rest with MultiFernet.

Keys come from `settings.ICI_FIELD_ENCRYPTION_KEYS`, newest first: the newest
encrypts, every key decrypts, so keys can be rotated without downtime (add a
new key in front, run `manage.py rotate_field_encryption`, drop the old key).
A value that no configured key can decrypt raises `DecryptionError`; it is
never returned as ciphertext.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("ICI_FIELD_ENCRYPTION_KEYS is empty")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip().encode()))
        except (ValueError, TypeError) as e:
            raise ImproperlyConfigured(
                f"ICI_FIELD_ENCRYPTION_KEYS: key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            ) from e
    return MultiFernet(fernets)


def current() -> MultiFernet:
    return _multifernet(tuple(settings.ICI_FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return current().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as e:
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key in ICI_FIELD_ENCRYPTION_KEYS: "
            "the key it was written with is missing or the value is corrupt."
        ) from e


def rotate(token: str) -> str:
    """Re-encrypt a stored token with the newest key."""
    try:
        return current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as e:
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key in ICI_FIELD_ENCRYPTION_KEYS."
        ) from e
