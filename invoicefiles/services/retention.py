"""How long a file's bytes are kept.

The stored upload and its BIF are deleted ICI_INVOICE_FILE_KEEP_DAYS after the
file finished (done or failed); its row, counts, warnings and refused rows stay
for good, and so does its SHA-256, so the same bytes sent again are still
recognised and not applied twice. A failed file sent again after that is stored
again and processed (see uploads).

A stored file without a row (a crash between storing an upload and committing
its row, an upload cut off mid-way, a biller deleted with its files' rows) is
deleted once it is older than ORPHAN_AGE: see invoice_files_orphans_remove.
"""

import datetime
import logging
import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from invoicefiles.models import InvoiceFile, InvoiceFileStatus
from invoicefiles.services.processing import remove_stored
from invoicefiles.services.storage import stored_delete, stored_listdir, stored_modified

logger = logging.getLogger(__name__)

FINISHED = (InvoiceFileStatus.DONE, InvoiceFileStatus.FAILED)
ORPHAN_AGE = datetime.timedelta(hours=1)
# The only names the hub gives files under <bid>/ in the storage: an upload and its
# BIF (named by the row's id), and (on a local storage) an upload being received or
# a BIF being written.
_STORED = re.compile(
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(txt|bif)"
)
_PART = re.compile(r"(upload|bif)-[A-Za-z0-9_]+\.part")


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


def invoice_files_orphans_remove(*, limit: int = 500, now: datetime.datetime | None = None) -> int:
    """Delete the files the hub stored that no row refers to, last written more
    than ORPHAN_AGE before `now`; only names the hub gives (see _STORED, _PART),
    only in the biller folders of the storage. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - ORPHAN_AGE
    removed = 0
    for folder in sorted(stored_listdir("")[0]):
        if removed >= limit:
            break
        if folder.isdigit():
            removed += _remove_orphans_in(folder, cutoff, limit - removed)
    return removed


def _remove_orphans_in(folder: str, cutoff: datetime.datetime, limit: int) -> int:
    names = [
        f"{folder}/{name}"
        for name in stored_listdir(folder)[1]
        if _STORED.fullmatch(name) or _PART.fullmatch(name)
    ]
    kept: set[str] = set()
    for paths in InvoiceFile.objects.filter(Q(path__in=names) | Q(bif_path__in=names)).values_list(
        "path", "bif_path"
    ):
        kept.update(paths)
    removed = 0
    for name in sorted(set(names) - kept):
        if removed >= limit:
            break
        try:
            if stored_modified(name) >= cutoff:
                continue  # its row may not be committed yet, or it is still being received
            stored_delete(name)
        except FileNotFoundError:
            continue
        logger.warning("Invoice files: removed %s, a stored file without its row", name)
        removed += 1
    return removed
