"""Reads behind the portal's payment, "to apply", invoice-file and activity pages.

Every function takes the biller the caller got from `portal_biller` and reads
only that biller's rows: a row of another biller is not found, the same as a
row that does not exist.
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import CharField, Count, F, Func, Prefetch, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from billers.models import Biller
from invoicefiles.models import InvoiceFile, InvoiceFileError
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
    recent_days: int


RECENT_DAYS = 7


def reversals_to_apply(*, biller: Biller, limit: int = 200, recent: int = 50) -> ToApply:
    """The biller's reversals waiting to be applied in its own system (oldest
    first) and those applied in the last RECENT_DAYS days, newest first (who,
    when, the note). The window keeps the second cheap without an index on
    applied_at: 30,000 applied reversals of a biller cost 270 ms on
    PostgreSQL to sort, a week of them 10 ms."""
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    waiting = Reversal.objects.filter(
        payment__biller=biller, status=ReversalStatus.TO_APPLY
    ).select_related("payment")
    applied = list(
        Reversal.objects.filter(
            payment__biller=biller, status=ReversalStatus.APPLIED, applied_at__gte=since
        )
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
    return ToApply(
        waiting=listed, waiting_count=count, recently_applied=applied, recent_days=RECENT_DAYS
    )


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
    there with zeros.

    Two GROUP BY queries (day and status): the payments, then their reversals,
    few, which move their payments to "reversed"."""
    tz = timezone.get_default_timezone()
    today = today or timezone.localdate(timezone=tz)
    first = today - datetime.timedelta(days=days - 1)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tz)
    table = {
        first + datetime.timedelta(days=n): {"counts": dict.fromkeys(OUTCOMES, 0), "amount": 0}
        for n in range(days)
    }
    for seg_start, seg_end, local_day in _local_days(tz, start, end):
        payments = (
            Payment.objects.filter(biller=biller, created_at__gte=seg_start, created_at__lt=seg_end)
            .annotate(day=local_day("created_at"))
            .values("day", "status")
            .annotate(n=Count("*"), amount=Sum("amount"))
            .order_by()
        )
        for row in payments:
            entry = table[_as_date(row["day"])]
            entry["counts"][row["status"]] += row["n"]
            entry["amount"] += row["amount"] or 0
        reversed_ = (
            Reversal.objects.filter(
                # recorded after its payment: this bound lets the database start
                # from the (few) reversals instead of from the payments
                created_at__gte=seg_start,
                payment__biller=biller,
                payment__created_at__gte=seg_start,
                payment__created_at__lt=seg_end,
            )
            .exclude(payment__status__in=NEVER_TAKEN)
            .annotate(day=local_day("payment__created_at"))
            .values("day", "payment__status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in reversed_:
            counts = table[_as_date(row["day"])]["counts"]
            counts[row["payment__status"]] -= row["n"]
            counts[PaymentStatus.REVERSED] += row["n"]
    return [
        Day(
            day=day,
            counts=entry["counts"],
            total=sum(entry["counts"].values()),
            amount=Decimal(entry["amount"]),
        )
        for day, entry in table.items()
    ]


# A voided payment the partner refused or never got keeps that outcome.
NEVER_TAKEN = (PaymentStatus.REJECTED, PaymentStatus.FAILED)


def _as_date(value) -> datetime.date:
    if isinstance(value, str):  # SQLite's DATE()
        return datetime.date.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _local_days(tz, start: datetime.datetime, end: datetime.datetime):
    """(from, to, expression of a field's local date) covering [start, end).

    PostgreSQL converts each row's time zone in C (AT TIME ZONE). On SQLite,
    Django's TruncDate calls a Python function per row (about 6 us: 6 s for a
    million payments), so the range is cut where the zone's UTC offset changes
    (daylight saving) and each piece uses SQLite's own DATE(field, '+N seconds')."""
    if connection.vendor != "sqlite":
        return [(start, end, lambda field: TruncDate(field, tzinfo=tz))]
    pieces = []
    for piece_start, piece_end, offset in _constant_offsets(tz, start, end):
        modifier = f"{int(offset.total_seconds()):+d} seconds"
        pieces.append(
            (
                piece_start,
                piece_end,
                lambda field, modifier=modifier: Func(
                    F(field), Value(modifier), function="DATE", output_field=CharField()
                ),
            )
        )
    return pieces


def _constant_offsets(tz, start: datetime.datetime, end: datetime.datetime):
    """Split [start, end) where `tz`'s UTC offset changes: (from, to, offset)."""

    def offset(epoch: int) -> datetime.timedelta:
        return datetime.datetime.fromtimestamp(epoch, tz).utcoffset()

    first, last = int(start.timestamp()), int(end.timestamp()) - 1
    pieces, piece_start, probe = [], first, first
    while probe < last:
        step = min(probe + 6 * 3600, last)  # offsets never change twice in 6 hours
        if offset(step) != offset(probe):
            low, high = probe, step  # offset(low) is the old one, offset(high) the new
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == offset(probe) else (low, middle)
            pieces.append((piece_start, high))
            piece_start = high
        probe = step
    pieces.append((piece_start, last + 1))
    return [
        (
            datetime.datetime.fromtimestamp(a, datetime.UTC),
            datetime.datetime.fromtimestamp(b, datetime.UTC),
            offset(a),
        )
        for a, b in pieces
    ]
