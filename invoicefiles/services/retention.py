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
import os
import re
import time

from django.conf import settings
from django.utils import timezone

from invoicefiles.models import InvoiceFile, InvoiceFileStatus
from invoicefiles.services.processing import files_dir, remove_stored

logger = logging.getLogger(__name__)

FINISHED = (InvoiceFileStatus.DONE, InvoiceFileStatus.FAILED)
ORPHAN_AGE = datetime.timedelta(hours=1)
# The only names the hub gives files under ICI_INVOICE_FILE_DIR/<bid>/: an upload
# and its BIF (named by the row's id), and an upload being received.
_STORED = re.compile(
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(txt|bif)"
)
_PART = re.compile(r"upload-[A-Za-z0-9_]+\.part")


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


def invoice_files_orphans_remove(*, limit: int = 500) -> int:
    """Delete the files the hub stored that no row refers to, last written more
    than ORPHAN_AGE ago; only names the hub gives (see _STORED, _PART), only in
    the biller folders of the files dir. Returns how many were deleted."""
    root = files_dir()
    if not root.is_dir():
        return 0
    cutoff = time.time() - ORPHAN_AGE.total_seconds()
    removed = 0
    with os.scandir(root) as folders:
        for folder in folders:
            if removed >= limit:
                break
            if folder.name.isdigit() and folder.is_dir(follow_symlinks=False):
                removed += _remove_orphans_in(folder.path, folder.name, cutoff, limit - removed)
    return removed


def _remove_orphans_in(folder: str, bid: str, cutoff: float, limit: int) -> int:
    candidates: dict[str, str] = {}  # name under the files dir -> its id ("" for a part)
    with os.scandir(folder) as entries:
        for entry in entries:
            stored = _STORED.fullmatch(entry.name)
            if not (stored or _PART.fullmatch(entry.name)):
                continue
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                candidates[f"{bid}/{entry.name}"] = stored.group("id") if stored else ""
    ids = {file_id for file_id in candidates.values() if file_id}
    kept: set[str] = set()
    for paths in InvoiceFile.objects.filter(pk__in=ids).values_list("path", "bif_path"):
        kept.update(paths)
    removed = 0
    for name in sorted(candidates):
        if name in kept or removed >= limit:
            continue
        try:
            os.unlink(files_dir() / name)
        except FileNotFoundError:
            continue
        logger.warning("Invoice files: removed %s, a stored file without its row", name)
        removed += 1
    return removed
