"""The read-back of a post whose outcome is unknown: the invoice's figure now,
against the snapshot taken before the post. Changed by the payment's amount
means posted, unchanged means not applied (posted again), anything else, or no
answer after ICI_PUMP_MAX_READS reads, goes to review. A read refused for the
biller's credentials (401/403) is not a read: the delivery is held (`hold`)."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from partners.connectors.base import PostResult
from partners.connectors.errors import Outcome, PartnerAuthError, PartnerError
from payments.models import AttemptKind, DeliveryStatus
from payments.services.breaker import breaker_record
from payments.services.delivery.claim import delivery_task_enqueue
from payments.services.delivery.hold import delivery_credentials_refused
from payments.services.delivery.post import connector_for
from payments.services.delivery.results import Lease, Result, RunResult
from payments.services.delivery.state import (
    attempt_finish,
    attempt_start,
    backoff_seconds,
    delivery_transition,
)


def delivery_reconcile(lease: Lease) -> RunResult:
    delivery, payment = lease.delivery, lease.delivery.payment
    if not delivery.snapshot:
        delivery_transition(
            delivery, lease, DeliveryStatus.REVIEW,
            error="Outcome unknown and no snapshot of the invoice to reconcile against.",
        )  # fmt: skip
        return Result.REVIEW_NO_SNAPSHOT
    connector = connector_for(delivery)
    attempt = attempt_start(delivery, AttemptKind.READ_BACK)
    reads = delivery.reads + 1
    try:
        record = connector.fetch_invoice(delivery.invoice_number)
    except PartnerError as e:
        attempt_finish(attempt, PostResult.of_error(e))
        if isinstance(e, PartnerAuthError):
            # Refused credentials: no read, not counted; read again once the hold lifts.
            return delivery_credentials_refused(
                delivery, lease, message=e.message, called_at=attempt.started_at
            )
        if e.outcome != Outcome.REJECTED:
            breaker_record(
                state=lease.breaker, outcome=e.outcome, error_code=e.code, message=e.message
            )
        if e.outcome == Outcome.REJECTED or reads >= settings.ICI_PUMP_MAX_READS:
            delivery_transition(
                delivery, lease, DeliveryStatus.REVIEW, reads=reads,
                error=f"Could not read the invoice back ({reads} tries): {e.message}",
            )  # fmt: skip
            return Result.REVIEW_READ_BACK_FAILED
        wait = datetime.timedelta(seconds=backoff_seconds(reads))
        delivery_transition(
            delivery, lease, DeliveryStatus.RECONCILING, reads=reads,
            next_at=timezone.now() + wait, error=f"Read-back failed: {e.message}",
        )  # fmt: skip
        return Result.READ_BACK_RETRY
    attempt_finish(attempt, PostResult(Outcome.SUCCESS, record.exchange))
    breaker_record(state=lease.breaker, outcome=Outcome.SUCCESS)
    before = Decimal(delivery.snapshot["figure"])
    now_figure = connector.reconciliation_figure(record.record)
    expected = connector.figure_after_payment(before, payment.amount)
    if now_figure is not None and now_figure == expected and expected != before:
        delivery_transition(
            delivery, lease, DeliveryStatus.POSTED, reads=reads,
            error=f"Confirmed by read-back: {before} became {now_figure}.",
        )  # fmt: skip
        return Result.CONFIRMED
    if now_figure is not None and now_figure == before:
        delivery_transition(
            delivery, lease, DeliveryStatus.PENDING, reads=reads, next_at=timezone.now(),
            error=f"Not applied (read-back shows {now_figure}, as before the post): posting again.",
        )  # fmt: skip
        delivery_task_enqueue(delivery.pk, request_id=delivery.request_id)
        return Result.NOT_APPLIED
    delivery_transition(
        delivery,
        lease,
        DeliveryStatus.REVIEW,
        reads=reads,
        error=f"Cannot tell: the figure was {before} before the post, is {now_figure} now, "
        f"and would be {expected} with this payment.",
    )
    return Result.REVIEW_MISMATCH
