"""Reads of payments and their deliveries."""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Min

from billers.models import Biller
from icintegrations.errors import NotFoundError
from payments.models import (
    OPEN_STATUSES,
    CircuitBreaker,
    CredentialHold,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryStatus,
    Payment,
    PaymentStatus,
)
from payments.queries import due_q

# What the payment API's `hold` says of a payment held for its biller's credentials.
HOLD_PARTNER_AUTH_FAILED = "partner_auth_failed"


def payment_for_biller(*, biller: Biller, payment_guid: uuid.UUID) -> Payment:
    payment = (
        Payment.objects.select_related("biller", "reversal")
        .filter(biller=biller, payment_guid=payment_guid)
        .first()
    )
    if payment is None:
        raise NotFoundError(f"No payment {payment_guid}.", code="payment_not_found")
    return payment


def payment_attempts(*, payment: Payment) -> list[DeliveryAttempt]:
    """Every partner call made for the payment (and its reversal), oldest first."""
    return list(
        DeliveryAttempt.objects.filter(delivery__payment=payment).order_by("started_at", "id")
    )


@dataclass(frozen=True)
class Overdue:
    count: int
    since: datetime.datetime | None  # the oldest one's time


def deliveries_overdue(*, now: datetime.datetime, late: datetime.timedelta) -> Overdue:
    """Deliveries a worker could have taken `late` ago and none has: with a
    working cluster and its sweep (every minute) there are none. Held deliveries
    (an open breaker) are not due until it closes, so a partner that is down does
    not count; a cluster that stalled, or a backlog far beyond the workers, does."""
    row = Delivery.objects.filter(due_q(now), next_attempt_at__lt=now - late).aggregate(
        count=Count("pk"), since=Min("next_attempt_at")
    )
    return Overdue(row["count"], row["since"])


def deliveries_by_status() -> dict[str, int]:
    """How many deliveries are in each status (every status, 0 for none): /metrics."""
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    for row in Delivery.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def breakers_open(*, now: datetime.datetime) -> list[str]:
    """The partners whose circuit breaker is open at `now`."""
    return sorted(
        CircuitBreaker.objects.filter(open_until__gt=now).values_list("partner", flat=True)
    )


def billers_held_by_partner() -> dict[str, int]:
    """Per partner, how many billers have their deliveries held because the partner
    refused their credentials (CredentialHold)."""
    rows = (
        CredentialHold.objects.filter(since__isnull=False)
        .values("partner")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["partner"]: row["n"] for row in rows}


def payment_hold(*, payment: Payment) -> str | None:
    """ "partner_auth_failed" when the payment's delivery waits for its biller's
    credentials (held, or open while the biller is held); None otherwise."""
    open_delivery = Delivery.objects.filter(
        payment=payment, kind=DeliveryKind.PAYMENT, status__in=OPEN_STATUSES
    )
    if not open_delivery.exists():
        return None
    held = (
        open_delivery.filter(held=True).exists()
        or CredentialHold.objects.filter(biller_id=payment.biller_id, since__isnull=False).exists()
    )
    return HOLD_PARTNER_AUTH_FAILED if held else None


def credential_hold_active(*, biller: Biller) -> CredentialHold | None:
    return CredentialHold.objects.filter(biller=biller, since__isnull=False).first()


def credential_hold_notices(biller: Biller) -> list[str]:
    """The biller's admin page: its credentials refused since when, how many held."""
    hold = credential_hold_active(biller=biller)
    if hold is None:
        return []
    assert hold.since is not None  # the filter
    return [
        f"Credentials refused since {hold.since:%Y-%m-%d %H:%M} UTC: "
        f"{hold.held} deliveries held ({hold.partner} answered 401/403). "
        "Saving a setting of this biller, or Retry now in Credential holds, tries them again."
    ]


# --- the open balance: the partner's figure net of the hub's own payments ------

# Accepted and not posted: the partner's figure cannot include them yet.
UNPOSTED_STATUSES = (PaymentStatus.PENDING, PaymentStatus.REVIEW)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenBalance:
    """What is really left to pay on an invoice (README, "The open balance")."""

    balance_due: Decimal | None  # None when the partner gives no balance
    pending_payments: Decimal


def _pending_sql() -> str:
    p, d = Payment._meta.db_table, Delivery._meta.db_table
    return (
        f"SELECT CAST(SUM(p.amount) AS TEXT) FROM {p} p WHERE p.invoice_id = %s "
        f"AND (p.status IN (%s, %s) OR (p.status = %s AND EXISTS (SELECT 1 FROM {d} d "
        f"WHERE d.payment_id = p.id AND d.kind = %s AND d.status = %s AND d.finished_at > %s)))"
    )


_PENDING_SQL = None
# Older than any post: a figure of unknown age includes none of them.
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def invoice_pending_payments(*, invoice_id: int, refreshed_at: datetime.datetime | None) -> Decimal:
    """The sum of the invoice's payments that the partner's figure, read at
    `refreshed_at`, cannot include: accepted and not posted yet (pending, in
    review), or posted by a post that finished after the figure was read. A
    payment reversed before it was sent (reversed), rejected or failed is not
    counted; a refresh read after a post includes it, so it is not counted twice.

    One indexed query (the payment's invoice, then its delivery), in SQL built
    once: every lookup makes it, and the ORM would cost ten times the query."""
    global _PENDING_SQL
    if _PENDING_SQL is None:
        _PENDING_SQL = _pending_sql()
    read_at = connection.ops.adapt_datetimefield_value(refreshed_at or _EPOCH)
    statuses = [str(status) for status in (*UNPOSTED_STATUSES, PaymentStatus.POSTED)]
    params = [invoice_id, *statuses, str(DeliveryKind.PAYMENT), str(DeliveryStatus.POSTED), read_at]
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_SQL, params)
        (total,) = cursor.fetchone()
    return Decimal(total or "0").quantize(ZERO)


def invoice_open_balance(
    *, invoice_id: int, balance_due: Decimal | None, refreshed_at: datetime.datetime | None
) -> OpenBalance:
    """The partner's `balance_due` (as of `refreshed_at`) minus the pending payments."""
    pending = invoice_pending_payments(invoice_id=invoice_id, refreshed_at=refreshed_at)
    return OpenBalance(
        balance_due=None if balance_due is None else balance_due - pending,
        pending_payments=pending,
    )
