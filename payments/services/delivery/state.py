"""Writing a delivery's state down: its attempt rows, its transitions (with its
payment's, or its reversal's, status), and the wait before its next try."""

import datetime
import logging
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from icintegrations.metrics import partner_call_observe
from partners.connectors.base import PostResult
from partners.connectors.http import Exchange
from payments.models import (
    OPEN_STATUSES,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryStatus,
    Payment,
    PaymentStatus,
    Reversal,
    ReversalStatus,
)
from payments.services.delivery.results import Lease

logger = logging.getLogger("payments.services.delivery")

# What a payment's status is while its delivery is in each state.
PAYMENT_STATUS: dict[str, PaymentStatus] = {
    DeliveryStatus.PENDING: PaymentStatus.PENDING,
    DeliveryStatus.IN_FLIGHT: PaymentStatus.PENDING,
    DeliveryStatus.RECONCILING: PaymentStatus.PENDING,
    DeliveryStatus.POSTED: PaymentStatus.POSTED,
    DeliveryStatus.REJECTED: PaymentStatus.REJECTED,
    DeliveryStatus.REVIEW: PaymentStatus.REVIEW,
    DeliveryStatus.DEAD: PaymentStatus.FAILED,
    DeliveryStatus.CANCELLED: PaymentStatus.REVERSED,
}


def backoff_seconds(tries: int) -> float:
    """BASE * 2**(tries-1), capped, with full jitter on the upper half."""
    base = settings.ICI_PUMP_BACKOFF_BASE
    ceiling = min(base * 2 ** max(tries - 1, 0), settings.ICI_PUMP_BACKOFF_CAP)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def attempt_start(delivery: Delivery, kind: str) -> DeliveryAttempt:
    """Written (autocommit) before the call: a crash leaves it without an outcome."""
    return DeliveryAttempt.objects.create(delivery=delivery, kind=kind, started_at=timezone.now())


def attempt_finish(attempt: DeliveryAttempt, result: PostResult) -> None:
    exchange: Exchange | None = result.exchange
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        outcome=result.outcome,
        status_code=exchange.status_code if exchange else None,
        duration_ms=round(exchange.duration_ms, 1) if exchange else None,
        receipt_number=result.receipt_number[:100],
        error_code=result.error_code[:64],
        message=result.message[:500],
        exchange=exchange.as_dict() if exchange else None,
    )
    delivery = attempt.delivery  # the lease's, with its biller (claim._leased)
    logger.info(
        "Partner call: %s %s for biller %s: %s%s",
        delivery.partner, attempt.kind, delivery.biller.bid, result.outcome,
        f" ({result.error_code})" if result.error_code else "",
        extra={
            "bid": delivery.biller.bid, "partner": delivery.partner,
            "operation": str(attempt.kind), "outcome": str(result.outcome),
            "error_code": result.error_code, "delivery_id": delivery.pk,
            "status_code": exchange.status_code if exchange else None,
            "duration_ms": round(exchange.duration_ms, 1) if exchange else None,
        },
    )  # fmt: skip
    partner_call_observe(
        partner=attempt.delivery.partner, operation=attempt.kind, outcome=result.outcome,
        duration_ms=exchange.duration_ms if exchange else None,
    )  # fmt: skip


def delivery_transition(
    delivery: Delivery,
    lease: Lease | None,
    status: str,
    *,
    attempts: int | None = None,
    reads: int | None = None,
    snapshot: dict | None = None,
    next_at: datetime.datetime | None = None,
    receipt: str | None = None,
    error: str | None = None,
    held: bool | None = None,
) -> bool:
    """Move a delivery (and its payment) to `status`, releasing the lease; a worker
    whose lease was taken over writes nothing. Returns whether it was written."""
    now = timezone.now()
    changes: dict[str, object] = {
        "status": status,
        "lease_token": None,
        "lease_until": None,
        "updated_at": now,
    }
    if attempts is not None:
        changes["attempts"] = attempts
    if reads is not None:
        changes["reads"] = reads
    if snapshot is not None:
        changes["snapshot"] = snapshot
    if next_at is not None:
        changes["next_attempt_at"] = next_at
    if error is not None:
        changes["last_error"] = error[:500]
    if held is not None:
        changes["held"] = held
    if status in OPEN_STATUSES:
        changes["enqueued_at"] = None  # the next try needs a new trigger (the sweep's)
    else:
        changes["finished_at"] = now
    with transaction.atomic(savepoint=False):  # no savepoint when the caller has begun
        rows = Delivery.objects.filter(pk=delivery.pk)
        if lease is not None:
            rows = rows.filter(lease_token=lease.token)
        if not rows.update(**changes):
            logger.warning(
                "Data Pump: delivery %s was taken over; not writing %s", delivery.pk, status
            )
            return False
        for name, value in changes.items():
            setattr(delivery, name, value)
        _payment_follow(delivery, receipt)
    return True


def _payment_follow(delivery: Delivery, receipt: str | None) -> None:
    payment_id = delivery.payment_id
    if delivery.kind == DeliveryKind.REVERSAL:
        follow: dict[str, ReversalStatus] = {
            DeliveryStatus.POSTED: ReversalStatus.DELIVERED,
            DeliveryStatus.REJECTED: ReversalStatus.TO_APPLY,
            DeliveryStatus.DEAD: ReversalStatus.TO_APPLY,
        }
        status = follow.get(delivery.status)
        if status:
            # A reversal's delivery is only made with its reversal (services/reversals.py).
            assert delivery.reversal_id is not None
            Reversal.objects.filter(pk=delivery.reversal_id).update(status=status)
        return
    changes = {"status": PAYMENT_STATUS[delivery.status], "updated_at": timezone.now()}
    if receipt:
        changes["receipt_number"] = receipt[:100]
    Payment.objects.filter(pk=payment_id).update(**changes)
