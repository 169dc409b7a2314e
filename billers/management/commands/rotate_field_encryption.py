from django.core.management.base import BaseCommand, CommandError

from billers.services.encryption import field_encryption_rotate
from icintegrations.crypto import DecryptionError


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key (the first of "
        "ICI_FIELD_ENCRYPTION_KEYS). Run it after putting a new key in front; "
        "then the old keys can be removed. All or nothing."
    )

    def handle(self, *args, **options):
        try:
            count = field_encryption_rotate()
        except DecryptionError as e:
            raise CommandError(f"{e} Nothing was rewritten.") from None
        self.stdout.write(f"Re-encrypted {count} secret value(s) with the newest key.")
