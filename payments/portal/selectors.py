"""Reads behind the portal's payment, "to apply", invoice-file and activity pages.

Every function takes the biller the caller got from `portal_biller` and reads
only that biller's rows: a row of another biller is not found, the same as a
row that does not exist.
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db.models import Case, CharField, Count, F, Prefetch, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from billers.models import Biller, BillerSetting, SettingKind
from invoicefiles.models import InvoiceFile, InvoiceFileError, InvoiceFileStatus
from invoicefiles.services.processing import files_dir
from payments.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    OperatorAction,
    Payment,
    PaymentStatus,
    Reversal,
    ReversalStatus,
)

# What the timeline shows of an attempt: never its `exchange` (the raw request
# and answer), which is not even read.
ATTEMPT_FIELDS = (
    "id", "delivery_id", "kind", "started_at", "outcome", "status_code", "duration_ms",
    "receipt_number", "message",
)  # fmt: skip


def biller_secret_values(*, biller: Biller) -> list[str]:
    """The biller's partner secrets in clear, only to scrub them from any partner
    text a page shows (an attempt's message, a delivery's last error)."""
    rows = BillerSetting.objects.filter(biller=biller, setting__kind=SettingKind.SECRET)
    return [row.secret for row in rows.only("id", "secret") if row.secret]


# -- a payment ------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentDetail:
    payment: Payment
    delivery: Delivery | None  # the payment's own delivery, attempts prefetched
    reversal: Reversal | None
    reversal_delivery: Delivery | None


def payment_detail(*, biller: Biller, payment_guid: uuid.UUID) -> PaymentDetail | None:
    """A payment of `biller` with its deliveries and their attempts (oldest
    first), and its reversal; None when the biller has no such payment."""
    payment = (
        Payment.objects.select_related("reversal__applied_by")
        .filter(biller=biller, payment_guid=payment_guid)
        .first()
    )
    if payment is None:
        return None
    attempts = DeliveryAttempt.objects.only(*ATTEMPT_FIELDS).order_by("started_at", "id")
    deliveries = list(
        Delivery.objects.filter(payment=payment)
        .defer("snapshot")
        .prefetch_related(Prefetch("attempt_rows", queryset=attempts))
        .order_by("created_at", "id")
    )
    return PaymentDetail(
        payment=payment,
        delivery=next((d for d in deliveries if d.kind == DeliveryKind.PAYMENT), None),
        reversal=_reversal_of(payment),
        reversal_delivery=next((d for d in deliveries if d.kind == DeliveryKind.REVERSAL), None),
    )


def _reversal_of(payment: Payment) -> Reversal | None:
    try:
        return payment.reversal  # select_related filled it, or knows there is none
    except Reversal.DoesNotExist:
        return None


# -- reversals to apply ---------------------------------------------------------


@dataclass(frozen=True)
class ToApply:
    waiting: list[Reversal]  # oldest first, at most `limit`
    waiting_count: int
    recently_applied: list[Reversal]  # newest first, each with `portal_note`


def reversals_to_apply(*, biller: Biller, limit: int = 200, recent: int = 20) -> ToApply:
    """The biller's reversals waiting to be applied in its own system (oldest
    first) and the ones applied most recently (who, when, the note)."""
    waiting = Reversal.objects.filter(
        payment__biller=biller, status=ReversalStatus.TO_APPLY
    ).select_related("payment")
    applied = list(
        Reversal.objects.filter(payment__biller=biller, status=ReversalStatus.APPLIED)
        .select_related("payment", "applied_by")
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=OperatorAction.objects.filter(
                    action=OperatorAction.Action.APPLIED
                ).order_by("-created_at", "-id"),
                to_attr="applied_actions",
            )
        )
        .order_by("-applied_at", "-id")[:recent]
    )
    for reversal in applied:
        actions = reversal.applied_actions
        reversal.portal_note = actions[0].reason if actions else ""
    listed = list(waiting.order_by("created_at", "id")[:limit])
    count = len(listed) if len(listed) < limit else waiting.count()
    return ToApply(waiting=listed, waiting_count=count, recently_applied=applied)


def reversal_of_biller(*, biller: Biller, reversal_id: int) -> Reversal | None:
    return (
        Reversal.objects.select_related("payment")
        .filter(pk=reversal_id, payment__biller=biller)
        .first()
    )


# -- invoice files --------------------------------------------------------------

FILE_LIST_FIELDS = (
    "id", "biller_id", "original_name", "size", "status", "rows", "accepted", "rejected",
    "invoice_count", "total_amount", "bif_path", "error_message", "created_at", "finished_at",
)  # fmt: skip


def invoice_files(*, biller: Biller):
    """The biller's invoice files, newest first (a QuerySet, to page)."""
    return (
        InvoiceFile.objects.filter(biller=biller)
        .only(*FILE_LIST_FIELDS)
        .order_by("-created_at", "-id")
    )


def invoice_file_of_biller(*, biller: Biller, file_id: uuid.UUID) -> InvoiceFile | None:
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


def invoice_file_bif(*, invoice_file: InvoiceFile) -> Path | None:
    """Where the file's BIF is on disk, when it has one (and it is still there)."""
    if invoice_file.status != InvoiceFileStatus.DONE or not invoice_file.bif_path:
        return None
    path = files_dir() / invoice_file.bif_path
    return path if path.is_file() else None


# -- activity -------------------------------------------------------------------

# The outcomes of the activity chart, bottom of a bar first.
OUTCOMES = ("posted", "pending", "review", "rejected", "failed", "reversed")


@dataclass(frozen=True)
class Day:
    day: datetime.date
    counts: dict[str, int]  # outcome -> payments
    total: int
    amount: Decimal


def payment_activity(*, biller: Biller, days: int, today: datetime.date | None = None) -> list[Day]:
    """Payments the hub received per day (in the settings' time zone) over the
    last `days` days, today included, counted by outcome: the payment's status,
    except that a voided or returned payment counts as reversed (one the partner
    rejected or never got stays rejected or failed). Days without payments are
    there with zeros."""
    tz = timezone.get_default_timezone()
    today = today or timezone.localdate(timezone=tz)
    first = today - datetime.timedelta(days=days - 1)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tz)
    outcome = Case(
        When(status__in=(PaymentStatus.REJECTED, PaymentStatus.FAILED), then=F("status")),
        When(reversal__isnull=False, then=Value(PaymentStatus.REVERSED.value)),
        default=F("status"),
        output_field=CharField(),
    )
    rows = (
        Payment.objects.filter(biller=biller, created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz), outcome=outcome)
        .values("day", "outcome")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    table: dict[datetime.date, dict] = {}
    for row in rows:
        day = row["day"]
        if isinstance(day, datetime.datetime):  # some backends answer a datetime
            day = day.date()
        entry = table.setdefault(day, {"counts": dict.fromkeys(OUTCOMES, 0), "amount": Decimal(0)})
        entry["counts"][row["outcome"]] = entry["counts"].get(row["outcome"], 0) + row["n"]
        entry["amount"] += row["amount"] or Decimal(0)
    result = []
    for n in range(days):
        day = first + datetime.timedelta(days=n)
        entry = table.get(day) or {"counts": dict.fromkeys(OUTCOMES, 0), "amount": Decimal(0)}
        result.append(
            Day(
                day=day,
                counts=entry["counts"],
                total=sum(entry["counts"].values()),
                amount=entry["amount"],
            )
        )
    return result
