import datetime
import uuid
from typing import TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from billers.models import Biller
from icintegrations.errors import NotFoundError
from invoicefiles.models import InvoiceFile, InvoiceFileError, InvoiceFileStatus
from invoicefiles.services.storage import stored_exists


def invoice_file_get(*, biller: Biller, file_id) -> InvoiceFile:
    try:
        return InvoiceFile.objects.get(biller=biller, pk=file_id)
    except (InvoiceFile.DoesNotExist, ValueError, ValidationError):
        raise NotFoundError(
            f"No invoice file {file_id} for BID {biller.bid}.", code="invoice_file_not_found"
        ) from None


class InvoiceFileErrorRow(TypedDict):
    line: int
    field: str
    message: str


def invoice_file_errors(*, invoice_file: InvoiceFile) -> list[InvoiceFileErrorRow]:
    return list(
        InvoiceFileError.objects.filter(invoice_file=invoice_file)
        .order_by("line", "id")
        .values("line", "field", "message")
    )


def invoice_file_bif(*, invoice_file: InvoiceFile) -> str | None:
    """The file's BIF's name in the storage, when it has one (and it is still there)."""
    if invoice_file.status != InvoiceFileStatus.DONE or not invoice_file.bif_path:
        return None
    name = invoice_file.bif_path
    return name if stored_exists(name) else None


def invoice_files_waiting(
    *, now: datetime.datetime, late: datetime.timedelta = datetime.timedelta(0)
):
    """Files that should have a task running and may not, `late` past their time:
    queued ICI_INVOICE_FILE_REQUEUE_SECONDS after their task was handed to the
    broker (or, never handed over, after they arrived), or processing for longer
    than ICI_INVOICE_FILE_TASK_TIMEOUT (their worker died)."""
    queued_before = (
        now - late - datetime.timedelta(seconds=settings.ICI_INVOICE_FILE_REQUEUE_SECONDS)
    )
    started_before = now - late - datetime.timedelta(seconds=settings.ICI_INVOICE_FILE_TASK_TIMEOUT)
    return InvoiceFile.objects.filter(
        Q(status=InvoiceFileStatus.QUEUED)
        & (
            Q(enqueued_at__lte=queued_before)
            | Q(enqueued_at__isnull=True, created_at__lte=queued_before)
        )
        | Q(status=InvoiceFileStatus.PROCESSING, started_at__lt=started_before)
    )


def invoice_files_overdue(*, now: datetime.datetime, late: datetime.timedelta) -> int:
    """How many files the sweep should have had processed `late` ago (check_workers)."""
    return invoice_files_waiting(now=now, late=late).count()


def invoice_files_unfinished() -> dict[str, int]:
    """How many files are queued and processing (both keys, 0 for none): /metrics."""
    counts: dict[str, int] = dict.fromkeys(
        (str(InvoiceFileStatus.QUEUED), str(InvoiceFileStatus.PROCESSING)), 0
    )
    rows = (
        InvoiceFile.objects.filter(status__in=list(counts))
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


# What the portal's list of files shows of a file.
FILE_LIST_FIELDS = (
    "id", "biller_id", "original_name", "size", "status", "rows", "accepted", "rejected",
    "invoice_count", "total_amount", "bif_path", "error_message", "created_at", "finished_at",
)  # fmt: skip


def invoice_files_of_biller(*, biller: Biller) -> QuerySet[InvoiceFile]:
    """The biller's invoice files, newest first (a QuerySet, to page)."""
    return (
        InvoiceFile.objects.filter(biller=biller)
        .only(*FILE_LIST_FIELDS)
        .order_by("-created_at", "-id")
    )


def invoice_file_of_biller(*, biller: Biller, file_id: uuid.UUID) -> InvoiceFile | None:
    """The biller's file `file_id`; None for a file of another biller, the same as
    for one that does not exist."""
    return InvoiceFile.objects.filter(biller=biller, pk=file_id).first()


def invoice_file_errors_page(
    *, invoice_file: InvoiceFile, offset: int, limit: int
) -> tuple[list[InvoiceFileError], int]:
    """One page of a file's refused rows (by line) and how many there are in all."""
    rows = InvoiceFileError.objects.filter(invoice_file=invoice_file)
    ordered = rows.order_by("line", "id").only("line", "field", "message")
    page = list(ordered[offset : offset + limit])
    if offset == 0 and len(page) < limit:
        return page, len(page)
    return page, rows.count()
