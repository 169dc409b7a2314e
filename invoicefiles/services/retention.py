"""How long a file's bytes are kept.

The stored upload and its BIF are deleted ICI_INVOICE_FILE_KEEP_DAYS after the
file finished (done or failed); its row, counts, warnings and refused rows stay
for good, and so does its SHA-256, so the same bytes sent again are still
recognised and not applied twice. A failed file sent again after that is stored
again and processed (see uploads).
"""

import datetime

from django.conf import settings
from django.utils import timezone

from invoicefiles.models import InvoiceFile, InvoiceFileStatus
from invoicefiles.services.processing import remove_stored

FINISHED = (InvoiceFileStatus.DONE, InvoiceFileStatus.FAILED)


def invoice_files_prune(*, limit: int = 500) -> int:
    """Delete the stored bytes of the files finished longer ago than the setting."""
    days = settings.ICI_INVOICE_FILE_KEEP_DAYS
    if days <= 0:
        return 0
    now = timezone.now()
    old = InvoiceFile.objects.filter(
        status__in=FINISHED,
        finished_at__lt=now - datetime.timedelta(days=days),
        pruned_at__isnull=True,
    ).order_by("finished_at")[:limit]
    pruned = 0
    for invoice_file in old:
        # The row first, and only while the file is still finished (not sent again
        # meanwhile): a download after this says "no longer kept", and a file
        # queued again keeps its bytes.
        if InvoiceFile.objects.filter(
            pk=invoice_file.pk, status=invoice_file.status, pruned_at__isnull=True
        ).update(pruned_at=now, bif_path=""):
            remove_stored(invoice_file)
            pruned += 1
    return pruned
