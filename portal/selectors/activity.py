"""Reads behind the portal's activity page: payments per day, by outcome.

Every function takes the biller the caller got from `portal_biller` and reads
only that biller's rows.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict

from django.db import connection
from django.db.models import CharField, Count, F, Func, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from billers.models import Biller
from billers.zones import zone_of
from payments.models import Payment, PaymentStatus, Reversal

# The outcomes of the activity chart, bottom of a bar first.
OUTCOMES = ("posted", "pending", "review", "rejected", "failed", "reversed")


@dataclass(frozen=True)
class Day:
    day: datetime.date
    counts: dict[str, int]  # outcome -> payments
    total: int
    amount: Decimal


class _Tally(TypedDict):
    counts: dict[str, int]  # outcome -> payments
    amount: Decimal | int


def payment_activity(*, biller: Biller, days: int, today: datetime.date | None = None) -> list[Day]:
    """Payments per day they were paid (`paid_at`, not the day the hub received
    them; days in the biller's time zone) over the last `days` days, today
    included, counted by outcome: the payment's status,
    except that a voided or returned payment counts as reversed (one the partner
    rejected or never got stays rejected or failed). Days without payments are
    there with zeros.

    Two GROUP BY queries (day and status): the payments, then their reversals,
    few, which move their payments to "reversed"."""
    tz = zone_of(biller.time_zone)
    today = today or timezone.localdate(timezone=tz)
    first = today - datetime.timedelta(days=days - 1)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tz)
    table: dict[datetime.date, _Tally] = {
        first + datetime.timedelta(days=n): {"counts": dict.fromkeys(OUTCOMES, 0), "amount": 0}
        for n in range(days)
    }
    for seg_start, seg_end, local_day in _local_days(tz, start, end):
        payments = (
            Payment.objects.filter(biller=biller, paid_at__gte=seg_start, paid_at__lt=seg_end)
            .annotate(day=local_day("paid_at"))
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
                # recorded after its payment arrived, and a payment never arrives
                # before it was paid less a few minutes (paid_at_in_future): this
                # bound lets the database start from the (few) reversals instead of
                # from the payments
                created_at__gte=seg_start - REVERSAL_MARGIN,
                payment__biller=biller,
                payment__paid_at__gte=seg_start,
                payment__paid_at__lt=seg_end,
            )
            .exclude(payment__status__in=NEVER_TAKEN)
            .annotate(day=local_day("payment__paid_at"))
            .values("day", "payment__status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for moved in reversed_:
            counts = table[_as_date(moved["day"])]["counts"]
            counts[moved["payment__status"]] -= moved["n"]
            counts[PaymentStatus.REVERSED] += moved["n"]
    return [
        Day(
            day=day,
            counts=entry["counts"],
            total=sum(entry["counts"].values()),
            amount=Decimal(entry["amount"]),
        )
        for day, entry in table.items()
    ]


# A reversal is recorded after its payment arrived, at most minutes before its
# paid_at (paid_at_in_future allows 5 minutes of clock skew); a day is ample.
REVERSAL_MARGIN = datetime.timedelta(days=1)
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
        utc_offset = datetime.datetime.fromtimestamp(epoch, tz).utcoffset()
        assert utc_offset is not None  # an aware time (in a zone) has one
        return utc_offset

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
