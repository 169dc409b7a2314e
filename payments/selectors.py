"""Reads of payments and their deliveries."""

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Count, Min

from billers.models import Biller
from icintegrations.errors import NotFoundError
from payments.models import (
    OPEN_STATUSES,
    CredentialHold,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    Payment,
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
