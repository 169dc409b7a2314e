"""Receiving an invoice file: streamed to a scratch file, hashed on the way,
deduplicated, then stored in the `invoicefiles` storage (see storage).

The same bytes sent twice to one biller are one file (SHA-256 per biller): the
second upload answers the first file and applies nothing again. A file that
failed may be sent again (the biller's field mapping may have been fixed in the
meantime): it is queued again under the same id.

A stored upload always has its row: the file is stored, then the row saved and
the task enqueued (on commit) in one transaction, and the stored file is removed
again on any failure. What a crash still leaves behind (a file without a row)
the sweep removes after an hour (retention.invoice_files_orphans_remove).
"""

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billers.models import Biller
from icintegrations.errors import ApplicationError
from invoicefiles.models import InvoiceFile, InvoiceFileError, InvoiceFileStatus
from invoicefiles.selectors import invoice_files_waiting
from invoicefiles.services.storage import (
    scratch_dir,
    stored_delete,
    stored_exists,
    stored_save,
)

logger = logging.getLogger(__name__)


class FileTooLargeError(ApplicationError):
    status_code = 413


@dataclass(frozen=True)
class Received:
    invoice_file: InvoiceFile
    duplicate: bool


def too_large(size: int | None = None) -> FileTooLargeError:
    limit = settings.ICI_INVOICE_FILE_MAX_BYTES
    return FileTooLargeError(
        f"An invoice file may be at most {limit} bytes.",
        code="file_too_large",
        extra={"max_bytes": limit, **({"bytes": size} if size is not None else {})},
    )


def clean_file_name(name: str) -> str:
    """The name an upload is stored under, the same for `?name=` and a multipart
    part: its last path segment, without NUL, control or other unprintable
    characters, surrounding spaces, at most 255 characters. "" (no name, as when
    none is given) when nothing is left."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return "" if name in (".", "..") else name[:255]


def invoice_file_receive(
    *,
    biller: Biller,
    chunks: Iterable[bytes],
    original_name: str = "",
    client_id: int | None = None,
    enqueue: bool = True,
) -> Received:
    """Store the upload and queue it (on commit); a known file is answered as it is.

    `enqueue=False` (the import command, which processes the file itself) stores it
    as queued without a task."""
    limit = settings.ICI_INVOICE_FILE_MAX_BYTES
    digest, size = hashlib.sha256(), 0
    fd, temp = tempfile.mkstemp(dir=scratch_dir(str(biller.bid)), prefix="upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large()
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ApplicationError(
                "The file is empty: no header, no rows.", code="empty_file", extra={}
            )
        return _register(biller, temp, digest.hexdigest(), size, original_name, client_id, enqueue)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _register(biller, temp, sha256, size, original_name, client_id, enqueue) -> Received:
    with transaction.atomic():  # the row locked: the retention sweep waits
        existing = (
            InvoiceFile.objects.select_for_update().filter(biller=biller, sha256=sha256).first()
        )
        if existing is not None:
            if existing.status == InvoiceFileStatus.FAILED and not _upload_kept(existing):
                # Its bytes were deleted after ICI_INVOICE_FILE_KEEP_DAYS: these are
                # the same bytes (the same SHA-256), kept again for the new try.
                path = stored_save(existing.path, temp)
                InvoiceFile.objects.filter(pk=existing.pk).update(pruned_at=None, path=path)
            return Received(_requeue_if_failed(existing, enqueue), duplicate=True)
    invoice_file = InvoiceFile(
        biller=biller,
        sha256=sha256,
        size=size,
        original_name=clean_file_name(original_name),
        uploaded_by_id=client_id,
    )
    # Stored first (an upload to an object store holds no transaction open), under
    # a name no other file has (the row's id).
    invoice_file.path = stored_save(f"{biller.bid}/{invoice_file.pk}.txt", temp)
    try:
        with transaction.atomic():  # the row and the task: both or none
            invoice_file.save(force_insert=True)
            if enqueue:
                invoice_file_enqueue(invoice_file.pk)
    except IntegrityError:  # the same file, sent twice at once: the other one won
        _discard(invoice_file.path)
        existing = InvoiceFile.objects.get(biller=biller, sha256=sha256)
        return Received(existing, duplicate=True)
    except BaseException:
        # Rolled back: no row, so no file (the temporary one goes too). Committed,
        # and then an on-commit callback failed: the row keeps its file.
        if not _committed(invoice_file.pk):
            _discard(invoice_file.path)
        raise
    return Received(invoice_file, duplicate=False)


def _discard(name: str) -> None:
    try:
        stored_delete(name)
    except Exception:  # the storage cannot say: the sweep removes it after an hour
        logger.exception("Invoice files: could not remove %s, a stored file without its row", name)


def _committed(file_id) -> bool:
    try:
        return InvoiceFile.objects.filter(pk=file_id).exists()
    except Exception:  # the database cannot say: the file stays for the sweep to judge
        return True


@transaction.atomic
def _requeue_if_failed(invoice_file: InvoiceFile, enqueue: bool) -> InvoiceFile:
    updated = InvoiceFile.objects.filter(
        pk=invoice_file.pk, status=InvoiceFileStatus.FAILED
    ).update(
        status=InvoiceFileStatus.QUEUED,
        error_code="",
        error_message="",
        rows=0,
        accepted=0,
        rejected=0,
        warnings=[],
        started_at=None,
        finished_at=None,
    )
    if updated:
        InvoiceFileError.objects.filter(invoice_file=invoice_file).delete()
    if enqueue and (updated or invoice_file.status == InvoiceFileStatus.QUEUED):
        # Still queued: its task may have been lost with a worker (the Redis broker
        # never redelivers). A second task is harmless: the file row is claimed once.
        invoice_file_enqueue(invoice_file.pk)
    invoice_file.refresh_from_db()
    return invoice_file


def invoice_file_requeue(*, invoice_file: InvoiceFile) -> bool:
    """A failed file processed again (the admin's "queue again", once the biller's
    mapping is fixed), as if the partner had sent it again. False: it had not
    failed, or its upload is no longer kept (the partner must send it again)."""
    if invoice_file.status != InvoiceFileStatus.FAILED or not _upload_kept(invoice_file):
        return False
    return _requeue_if_failed(invoice_file, enqueue=True).status != InvoiceFileStatus.FAILED


def _upload_kept(invoice_file: InvoiceFile) -> bool:
    return stored_exists(invoice_file.path)


def invoice_file_enqueue(file_id) -> None:
    """Trigger the file's task once the transaction that wrote it commits."""
    transaction.on_commit(lambda: _enqueue(file_id))


def _enqueue(file_id) -> None:
    from django_q.tasks import async_task

    try:
        async_task(
            "invoicefiles.tasks.invoice_file_process_task",
            str(file_id),
            q_options={"timeout": settings.ICI_INVOICE_FILE_TASK_TIMEOUT, "ack_failure": True},
        )
    except Exception:  # the broker is down: the row stays as it is, for the sweep
        logger.exception("Invoice file %s: could not enqueue; the sweep will try again", file_id)
        return
    InvoiceFile.objects.filter(pk=file_id).update(enqueued_at=timezone.now())


def invoice_files_sweep(*, limit: int = 100) -> int:
    """Enqueue a task again for every file that should have one running and may not.

    - queued, its task handed to the broker longer ago than
      ICI_INVOICE_FILE_REQUEUE_SECONDS, or never (the broker was down): the task
      was lost (a Redis broker does not redeliver the task of a killed worker) or
      never made;
    - processing for longer than ICI_INVOICE_FILE_TASK_TIMEOUT: its worker (or
      the import command's process) died; nothing of it was applied, since a file
      is applied in one transaction.

    A task too many is harmless: the file row is claimed once. Returns how many."""
    due = list(
        invoice_files_waiting(now=timezone.now())
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        logger.warning("Invoice file %s: its task was lost; enqueued again", pk)
        _enqueue(pk)
    return len(due)
