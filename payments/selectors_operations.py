"""Reads for the operations page: how each partner is doing over a recent window.

Per partner: its real-time calls (PartnerCall: RTDR lookups and bills) and the
Data Pump's attempts (DeliveryAttempt), each with counts by outcome, success
rate and latency (median, p95); its circuit breaker when open; the billers
whose credentials it refused (their deliveries held); and the
deliveries waiting for a person (dead letters, review items), whatever their
age. Percentiles are the continuous kind (linear interpolation, as
PostgreSQL's `percentile_cont`): computed by the database on PostgreSQL, and on
SQLite from the window's `duration_ms` column alone, read in order.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, QuerySet
from django.utils import timezone

from billers.models import Partner
from partners.models import PartnerCall
from payments.models import (
    CircuitBreaker,
    CredentialHold,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
)

WINDOWS = {
    "1h": datetime.timedelta(hours=1),
    "24h": datetime.timedelta(hours=24),
    "7d": datetime.timedelta(days=7),
}
DEFAULT_WINDOW = "24h"
OUTCOMES = ("success", "rejected", "not_sent", "unknown")


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the `fraction` percentile, interpolated."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(ordered: list[float], fraction: float) -> float | None:
    """`percentile_cont` of values already in ascending order."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class CallStats:
    """Partner calls of one kind over the window."""

    calls: int = 0
    by_outcome: tuple[tuple[str, int], ...] = tuple((o, 0) for o in OUTCOMES)
    median_ms: float | None = None
    p95_ms: float | None = None

    @property
    def succeeded(self) -> int:
        return dict(self.by_outcome)["success"]

    @property
    def success_rate(self) -> float | None:
        """Percent of the calls that succeeded; None without a call."""
        return 100.0 * self.succeeded / self.calls if self.calls else None


@dataclass(frozen=True)
class OpenBreaker:
    partner: str
    open_until: datetime.datetime
    failures: int
    opened_count: int
    last_failure: str


@dataclass(frozen=True)
class HeldBiller:
    """A biller whose credentials the partner refused: its deliveries are held."""

    biller_id: int
    biller: str
    since: datetime.datetime
    held: int
    last_probe_at: datetime.datetime | None
    last_error: str


@dataclass(frozen=True)
class PartnerOperations:
    partner: str
    realtime: CallStats  # RTDR lookups and bills (PartnerCall)
    pump: CallStats  # Data Pump posts and read-backs (DeliveryAttempt)
    dead_letters: int
    review_items: int
    breaker: OpenBreaker | None
    held_billers: tuple[HeldBiller, ...] = ()


@dataclass(frozen=True)
class Operations:
    window: str
    since: datetime.datetime
    until: datetime.datetime
    partners: tuple[PartnerOperations, ...]

    @property
    def open_breakers(self) -> list[OpenBreaker]:
        return [p.breaker for p in self.partners if p.breaker is not None]

    @property
    def held_billers(self) -> list[tuple[str, HeldBiller]]:
        """(partner, biller) of every biller whose credentials are refused."""
        return [(p.partner, b) for p in self.partners for b in p.held_billers]


def _counts(queryset: QuerySet, partner: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in queryset.values(partner, "outcome").annotate(n=Count("id")).order_by():
        counts.setdefault(row[partner], {})[row["outcome"]] = row["n"]
    return counts


def _percentiles(queryset: QuerySet, partner: str) -> dict[str, tuple[float | None, float | None]]:
    """Per partner: (median, p95) of `duration_ms` over the queryset's rows."""
    timed = queryset.filter(duration_ms__isnull=False).order_by()
    if connection.vendor == "postgresql":
        rows = timed.values(partner).annotate(
            median=PercentileCont("duration_ms", fraction=0.5),
            p95=PercentileCont("duration_ms", fraction=0.95),
        )
        return {row[partner]: (row["median"], row["p95"]) for row in rows}
    # One column, in order, bounded by the window: pick the two percentiles.
    ordered = timed.order_by(partner, "duration_ms").values_list(partner, "duration_ms")
    result: dict[str, tuple[float | None, float | None]] = {}
    for name, rows in groupby(ordered.iterator(chunk_size=10_000), key=lambda row: row[0]):
        values = [duration for _, duration in rows]
        result[name] = (percentile(values, 0.5), percentile(values, 0.95))
    return result


def _stats(queryset: QuerySet, partner: str) -> dict[str, CallStats]:
    counts, percentiles = _counts(queryset, partner), _percentiles(queryset, partner)
    stats = {}
    for name in counts.keys() | percentiles.keys():
        by_outcome = counts.get(name, {})
        median, p95 = percentiles.get(name, (None, None))
        stats[name] = CallStats(
            calls=sum(by_outcome.get(o, 0) for o in OUTCOMES),
            by_outcome=tuple((o, by_outcome.get(o, 0)) for o in OUTCOMES),
            median_ms=median,
            p95_ms=p95,
        )
    return stats


def operations_summary(
    *, window: str = DEFAULT_WINDOW, now: datetime.datetime | None = None
) -> Operations:
    """The operations of every partner over `window` (a key of WINDOWS) up to `now`."""
    until = now or timezone.now()
    since = until - WINDOWS[window]
    realtime = _stats(
        PartnerCall.objects.filter(
            created_at__gt=since, created_at__lte=until, outcome__in=OUTCOMES
        ),
        "partner",
    )
    pump = _stats(
        # An attempt without an outcome is still running (or its worker died): not counted.
        DeliveryAttempt.objects.filter(
            started_at__gt=since, started_at__lte=until, outcome__in=OUTCOMES
        ),
        "delivery__partner",
    )
    waiting: dict[str, dict[str, int]] = {}
    for row in (
        Delivery.objects.filter(status__in=[DeliveryStatus.DEAD, DeliveryStatus.REVIEW])
        .values("partner", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        waiting.setdefault(row["partner"], {})[row["status"]] = row["n"]
    breakers: dict[str, OpenBreaker] = {}
    for b in CircuitBreaker.objects.filter(open_until__gt=until):
        assert b.open_until is not None  # the filter
        breakers[b.partner] = OpenBreaker(
            b.partner, b.open_until, b.failures, b.opened_count, b.last_failure
        )
    held = _held_billers()
    names: Iterable[str] = sorted(
        set(Partner.values) | realtime.keys() | pump.keys() | waiting.keys() | breakers.keys()
    )
    return Operations(
        window=window,
        since=since,
        until=until,
        partners=tuple(
            PartnerOperations(
                partner=name,
                realtime=realtime.get(name, CallStats()),
                pump=pump.get(name, CallStats()),
                dead_letters=waiting.get(name, {}).get(DeliveryStatus.DEAD, 0),
                review_items=waiting.get(name, {}).get(DeliveryStatus.REVIEW, 0),
                breaker=breakers.get(name),
                held_billers=tuple(held.get(name, ())),
            )
            for name in names
        ),
    )


def _held_billers() -> dict[str, list[HeldBiller]]:
    """Per partner: the billers whose credentials it refused, the oldest first."""
    held: dict[str, list[HeldBiller]] = {}
    rows = (
        CredentialHold.objects.filter(since__isnull=False)
        .select_related("biller")
        .order_by("since")
    )
    for row in rows:
        assert row.since is not None  # the filter
        held.setdefault(row.partner, []).append(
            HeldBiller(
                row.biller_id,
                str(row.biller),
                row.since,
                row.held,
                row.last_probe_at,
                row.last_error,
            )  # fmt: skip
        )
    return held
