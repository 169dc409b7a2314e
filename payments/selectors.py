"""Reads of payments and their deliveries."""

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Count, Min

from billers.models import Biller
from icintegrations.errors import NotFoundError
from payments.models import Delivery, DeliveryAttempt, Payment
from payments.queries import due_q


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
