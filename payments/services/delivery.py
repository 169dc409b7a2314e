"""The Data Pump: deliver a payment to its partner exactly once.

The Delivery row is the truth, the django-q2 task only a trigger (a lost task is
found again by `deliveries_sweep`). A worker claims a due delivery and takes a
lease with one conditional UPDATE (or, for a delivery whose lease ran out,
`select_for_update(skip_locked=True)` and a recovery); every partner call is a
DeliveryAttempt row written before the call and completed after it. Outcomes:

- success: posted, done;
- rejected: final, visible to operators and the payer site;
- not sent: retried with exponential backoff and jitter, then dead-lettered;
- unknown (sent, no usable answer; or a worker that died mid-call): never
  re-posted blindly. The invoice is read back and its balance due (or paid
  amount) compared with the snapshot taken before the post: changed by the
  payment's amount means posted, unchanged means not applied (posted again),
  anything else, or no answer after ICI_PUMP_MAX_READS reads, goes to review.

Only one delivery per invoice is in flight or reconciling at a time (a partial
unique constraint), so a change in the invoice is the work of that delivery's
payment or of someone outside the hub, never of a sibling delivery.
"""

import datetime
import logging
import random
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from billers.models import RefreshSource
from partners.connectors.base import Connector, PaymentRequest, PostResult, ReversalRequest
from partners.connectors.errors import NotSupported, Outcome, PartnerError
from partners.connectors.http import Exchange
from partners.connectors.registry import connector_build
from partners.selectors import connector_config_by_id
from payments.models import (
    OPEN_STATUSES,
    AttemptKind,
    CircuitBreaker,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryStatus,
    Payment,
    PaymentStatus,
    Reversal,
    ReversalStatus,
)
from payments.services.breaker import BreakerState, breaker_record, breaker_state

logger = logging.getLogger(__name__)

# What a payment's status is while its delivery is in each state.
PAYMENT_STATUS = {
    DeliveryStatus.PENDING: PaymentStatus.PENDING,
    DeliveryStatus.IN_FLIGHT: PaymentStatus.PENDING,
    DeliveryStatus.RECONCILING: PaymentStatus.PENDING,
    DeliveryStatus.POSTED: PaymentStatus.POSTED,
    DeliveryStatus.REJECTED: PaymentStatus.REJECTED,
    DeliveryStatus.REVIEW: PaymentStatus.REVIEW,
    DeliveryStatus.DEAD: PaymentStatus.FAILED,
    DeliveryStatus.CANCELLED: PaymentStatus.REVERSED,
}
RTDR_SOURCES = (RefreshSource.RTDR_GENERATE, RefreshSource.RTDR_REFRESH)
# A delivery whose invoice is busy with another delivery waits this long.
BUSY_WAIT = datetime.timedelta(seconds=2)


def delivery_enqueue(delivery_id: int) -> None:
    """Trigger the delivery's task once the transaction that wrote it commits."""
    transaction.on_commit(lambda: _enqueue(delivery_id))


def _enqueue(delivery_id: int) -> None:
    from django_q.tasks import async_task

    # Marked before the task exists, so a fast worker's claim (which clears it)
    # always comes after; cleared again if the broker refuses the task.
    rows = Delivery.objects.filter(pk=delivery_id)
    rows.update(enqueued_at=timezone.now())

    # No result row per task ("save": False): the Delivery and its attempts are the
    # record, and django-q2's result pruning costs 14-27 ms a task in its monitor
    # (benchmarks/README.md). Failures are still saved.
    try:
        async_task(
            "payments.tasks.delivery_run_task",
            delivery_id,
            q_options={"ack_failure": True, "save": False},
        )
    except Exception:  # the broker is down: the row is safe, the next sweep retries it
        logger.exception("Data Pump: could not enqueue delivery %s; the sweep will", delivery_id)
        try:
            rows.update(enqueued_at=None)
        except Exception:  # the database too: ICI_PUMP_REQUEUE_SECONDS still bounds the wait
            logger.exception("Data Pump: could not unmark delivery %s", delivery_id)


def backoff_seconds(tries: int) -> float:
    """BASE * 2**(tries-1), capped, with full jitter on the upper half."""
    base = settings.ICI_PUMP_BACKOFF_BASE
    ceiling = min(base * 2 ** max(tries - 1, 0), settings.ICI_PUMP_BACKOFF_CAP)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def due_q(now: datetime.datetime) -> Q:
    """Deliveries a worker may take now: open, their time come, no live lease."""
    return Q(status__in=OPEN_STATUSES, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    )


# -- the work -------------------------------------------------------------------


@dataclass
class Lease:
    delivery: Delivery
    token: uuid.UUID
    breaker: BreakerState


def delivery_run(delivery_id: int) -> str:
    """Claim one delivery and take it one step (a post, or a read-back). Returns
    what happened, for the task's result and for tests."""
    lease = delivery_claim(delivery_id)
    if isinstance(lease, str):
        return lease
    delivery = lease.delivery
    if delivery.status == DeliveryStatus.RECONCILING:
        return _reconcile(lease)
    return _post(lease)


def delivery_claim(delivery_id: int) -> Lease | str:
    """Take the delivery's lease if it is due and nobody holds one; otherwise say
    why not. The common case is one conditional UPDATE (its row lock is the
    claim) and two small SELECTs; a delivery whose lease ran out goes the locked
    way, to recover what its lost worker left."""
    now = timezone.now()
    token = uuid.uuid4()
    free = Delivery.objects.filter(due_q(now), pk=delivery_id, lease_token__isnull=True)
    lease = {
        "lease_token": token,
        "lease_until": now + datetime.timedelta(seconds=settings.ICI_PUMP_LEASE_SECONDS),
        "enqueued_at": None,  # its task is running: a new one may be enqueued
        "updated_at": now,
    }
    try:
        with _statement_guard():
            taken = free.filter(status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.IN_FLIGHT, **lease
            )
    except IntegrityError:
        return _busy(delivery_id, now)
    if not taken:
        taken = free.filter(status=DeliveryStatus.RECONCILING).update(**lease)
    if not taken:
        # Not due, done, leased by a live worker, or left by a lost one: the
        # locked path tells which.
        return _claim_locked(delivery_id, now)
    claimed = _leased(delivery_id, token)
    if claimed.breaker.is_open(now):
        return _hold(claimed, now)
    return claimed


def _statement_guard():
    """A savepoint only where a failed statement would break the caller's
    transaction; in autocommit one statement needs none (and saves two round trips)."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _leased(delivery_id: int, token: uuid.UUID) -> Lease:
    delivery = Delivery.objects.select_related("payment__invoice").get(pk=delivery_id)
    return Lease(delivery, token, breaker_state(partner=delivery.partner))


def _hold(lease: Lease, now: datetime.datetime) -> str:
    """The partner's breaker is open: give the lease back, untried, until it closes."""
    delivery = lease.delivery
    spread = random.uniform(0, settings.ICI_PUMP_BREAKER_COOLDOWN)
    Delivery.objects.filter(pk=delivery.pk, lease_token=lease.token).update(
        status=(
            DeliveryStatus.PENDING
            if delivery.status == DeliveryStatus.IN_FLIGHT
            else delivery.status
        ),
        lease_token=None,
        lease_until=None,
        next_attempt_at=lease.breaker.open_until + datetime.timedelta(seconds=spread),
        enqueued_at=None,
        updated_at=now,
    )
    return f"held: the {delivery.partner} breaker is open"


def _busy(delivery_id: int, now: datetime.datetime) -> str:
    """Another delivery of the same invoice is in flight or reconciling."""
    Delivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=now + BUSY_WAIT, enqueued_at=None
    )
    return "waiting: another delivery of this invoice is busy"


def _claim_locked(delivery_id: int, now: datetime.datetime) -> Lease | str:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(due_q(now), pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "not due, taken, or done"
        if delivery.lease_token is not None:
            # Its lease ran out: the worker died (or hung) mid-step.
            verdict = _recover(delivery, now)
            if verdict:
                return verdict
        breaker = breaker_state(partner=delivery.partner)
        if breaker.is_open(now):
            spread = random.uniform(0, settings.ICI_PUMP_BREAKER_COOLDOWN)
            delivery.next_attempt_at = breaker.open_until + datetime.timedelta(seconds=spread)
            delivery.enqueued_at = None
            delivery.save(update_fields=["next_attempt_at", "enqueued_at", "updated_at"])
            return f"held: the {delivery.partner} breaker is open"
        token = uuid.uuid4()
        delivery.enqueued_at = None
        delivery.lease_token = token
        delivery.lease_until = now + datetime.timedelta(seconds=settings.ICI_PUMP_LEASE_SECONDS)
        if delivery.status == DeliveryStatus.PENDING:
            delivery.status = DeliveryStatus.IN_FLIGHT
        try:
            with transaction.atomic():
                delivery.save(
                    update_fields=[
                        "status", "enqueued_at", "lease_token", "lease_until", "updated_at"
                    ]
                )  # fmt: skip
        except IntegrityError:
            return _busy(delivery_id, now)
    return _leased(delivery_id, token)


def _recover(delivery: Delivery, now: datetime.datetime) -> str:
    """A delivery left in flight by a lost worker: what did it get done?"""
    last = delivery.attempt_rows.order_by("-started_at", "-id").first()
    running = last is not None and not last.outcome
    if running:
        DeliveryAttempt.objects.filter(pk=last.pk).update(
            outcome=Outcome.UNKNOWN,
            error_code="worker_lost",
            message="The worker stopped before the call ended (lease expired).",
        )
    if delivery.status == DeliveryStatus.RECONCILING:
        return ""  # only a read-back was under way: read again
    if last is not None and last.kind == AttemptKind.POST and running:
        # The post may have reached the partner: never post again unread.
        _transition(
            delivery,
            None,
            DeliveryStatus.RECONCILING,
            next_at=now + datetime.timedelta(seconds=settings.ICI_PUMP_RECONCILE_DELAY),
            error="A worker was lost during the post; reconciling.",
        )
        return "recovered: the post's outcome is unknown, reconciling"
    if last is not None and last.kind == AttemptKind.POST and last.outcome:
        # The post ended but the worker died before writing the delivery's state.
        _apply_post_result(delivery, None, _result_of(last), now=now, snapshot=delivery.snapshot)
        return f"recovered: the post had ended ({last.outcome})"
    delivery.status = DeliveryStatus.PENDING  # only a read was under way: nothing posted
    return ""


def _result_of(attempt: DeliveryAttempt) -> PostResult:
    return PostResult(
        Outcome(attempt.outcome),
        None,
        receipt_number=attempt.receipt_number,
        message=attempt.message,
        error_code=attempt.error_code,
    )


def _connector(delivery: Delivery) -> Connector:
    return connector_build(connector_config_by_id(biller_id=delivery.biller_id))


def payment_request(payment: Payment) -> PaymentRequest:
    return PaymentRequest(
        payment_guid=str(payment.payment_guid),
        invoice_number=payment.invoice_number,
        account_number=payment.account_number,
        amount=payment.amount,
        method=payment.method,
        approval_code=payment.approval_code,
        payer_name=payment.payer_name,
        paid_on=timezone.localtime(payment.paid_at).date(),
    )


def _post(lease: Lease) -> str:
    delivery, payment = lease.delivery, lease.delivery.payment
    connector = _connector(delivery)
    if delivery.kind == DeliveryKind.REVERSAL:
        return _post_reversal(lease, connector)
    snapshot = None
    if delivery.kind == DeliveryKind.PAYMENT:
        snapshot, failure = _snapshot(lease, connector)
        if failure is not None:
            verdict = _apply_post_result(
                delivery, lease, failure, now=timezone.now(), snapshot=None
            )
            return f"the read before the post failed; {verdict}"
    # The snapshot is written before the post's attempt row, and both before the
    # post, so that whoever reconciles the post (this worker, or the sweep if this
    # one dies) reads it back against it. A crash between the two leaves a
    # snapshot and no post: the delivery is simply taken again.
    if not Delivery.objects.filter(pk=delivery.pk, lease_token=lease.token).update(
        snapshot=snapshot
    ):
        return "lease lost before the post (a slow read): left to its new holder"
    delivery.snapshot = snapshot
    attempt = _attempt_start(delivery, AttemptKind.POST)
    result = connector.post_payment(payment_request(payment))
    with transaction.atomic():  # one commit for the attempt, the delivery and the payment
        _attempt_finish(attempt, result)
        breaker_record(
            state=lease.breaker,
            outcome=result.outcome,
            error_code=result.error_code,
            message=result.message,
        )
        return _apply_post_result(delivery, lease, result, now=timezone.now(), snapshot=snapshot)


def _snapshot(lease: Lease, connector: Connector) -> tuple[dict | None, PostResult | None]:
    """The partner's figure for the invoice before the post: from the payer's
    RTDR lookup when it is recent and no post to the invoice has happened since,
    otherwise read now. Returns (snapshot, None), or (None, failure) when the
    partner could not be read (then nothing is posted)."""
    delivery, payment = lease.delivery, lease.delivery.payment
    invoice = payment.invoice
    now = timezone.now()
    max_age = datetime.timedelta(seconds=settings.ICI_PUMP_SNAPSHOT_MAX_AGE)
    if (
        invoice is not None
        and invoice.refreshed_via in RTDR_SOURCES
        and invoice.refreshed_at is not None
        and invoice.refreshed_at >= now - max_age
        and isinstance(invoice.raw_payload, dict)
    ):
        figure = connector.reconciliation_figure(invoice.raw_payload)
        # A post still in flight when RTDR read the invoice may have changed it since.
        lease_span = datetime.timedelta(seconds=settings.ICI_PUMP_LEASE_SECONDS)
        touched = (
            figure is not None
            and DeliveryAttempt.objects.filter(
                delivery__biller_id=delivery.biller_id,
                delivery__invoice_number=delivery.invoice_number,
                kind=AttemptKind.POST,
                started_at__gte=invoice.refreshed_at - lease_span,
            ).exists()
        )
        if figure is not None and not touched:
            return {
                "figure": str(figure),
                "source": "rtdr",
                "at": invoice.refreshed_at.isoformat(),
            }, None
    attempt = _attempt_start(delivery, AttemptKind.SNAPSHOT)
    try:
        record = connector.fetch_invoice(delivery.invoice_number)
    except PartnerError as e:
        result = PostResult.of_error(e)
        _attempt_finish(attempt, result)
        if e.outcome == Outcome.REJECTED:
            # The partner does not know the invoice (or refused us): post anyway;
            # its answer decides, and an unknown outcome will go to review.
            return None, None
        breaker_record(state=lease.breaker, outcome=e.outcome, error_code=e.code, message=e.message)
        # Nothing was posted: as safe to retry as a post that was not sent.
        return None, PostResult(
            Outcome.NOT_SENT, None, message=f"Read before the post failed: {e.message}",
            error_code=e.code,
        )  # fmt: skip
    _attempt_finish(attempt, PostResult(Outcome.SUCCESS, record.exchange))
    figure = connector.reconciliation_figure(record.record)
    if figure is None:
        return None, None
    return {"figure": str(figure), "source": "read", "at": timezone.now().isoformat()}, None


def _apply_post_result(
    delivery: Delivery,
    lease: Lease | None,
    result: PostResult,
    *,
    now: datetime.datetime,
    snapshot: dict | None,
) -> str:
    attempts = delivery.attempts + 1
    if result.outcome == Outcome.SUCCESS:
        _transition(
            delivery, lease, DeliveryStatus.POSTED, attempts=attempts, snapshot=snapshot,
            receipt=result.receipt_number, error="",
        )  # fmt: skip
        return "posted"
    if result.outcome == Outcome.REJECTED:
        _transition(
            delivery, lease, DeliveryStatus.REJECTED, attempts=attempts, snapshot=snapshot,
            error=result.message,
        )  # fmt: skip
        return "rejected"
    if result.outcome == Outcome.NOT_SENT:
        if attempts >= settings.ICI_PUMP_MAX_ATTEMPTS:
            _transition(
                delivery, lease, DeliveryStatus.DEAD, attempts=attempts, snapshot=snapshot,
                error=f"Dead letter after {attempts} tries: {result.message}",
            )  # fmt: skip
            return "dead letter"
        wait = datetime.timedelta(seconds=backoff_seconds(attempts))
        _transition(
            delivery, lease, DeliveryStatus.PENDING, attempts=attempts, snapshot=snapshot,
            next_at=now + wait, error=result.message,
        )  # fmt: skip
        return f"not sent: retry in {wait.total_seconds():.1f} s"
    if delivery.kind != DeliveryKind.PAYMENT or snapshot is None:
        _transition(
            delivery, lease, DeliveryStatus.REVIEW, attempts=attempts, snapshot=snapshot,
            error=f"Outcome unknown and nothing to reconcile against: {result.message}",
        )  # fmt: skip
        return "review: unknown outcome, no snapshot"
    _transition(
        delivery, lease, DeliveryStatus.RECONCILING, attempts=attempts, snapshot=snapshot,
        next_at=now + datetime.timedelta(seconds=settings.ICI_PUMP_RECONCILE_DELAY),
        error=f"Outcome unknown: {result.message}",
    )  # fmt: skip
    return "unknown: reconciling"


def _reconcile(lease: Lease) -> str:
    delivery, payment = lease.delivery, lease.delivery.payment
    if not delivery.snapshot:
        _transition(
            delivery, lease, DeliveryStatus.REVIEW,
            error="Outcome unknown and no snapshot of the invoice to reconcile against.",
        )  # fmt: skip
        return "review: unknown outcome, no snapshot"
    connector = _connector(delivery)
    attempt = _attempt_start(delivery, AttemptKind.READ_BACK)
    reads = delivery.reads + 1
    try:
        record = connector.fetch_invoice(delivery.invoice_number)
    except PartnerError as e:
        _attempt_finish(attempt, PostResult.of_error(e))
        if e.outcome != Outcome.REJECTED:
            breaker_record(
                state=lease.breaker, outcome=e.outcome, error_code=e.code, message=e.message
            )
        if e.outcome == Outcome.REJECTED or reads >= settings.ICI_PUMP_MAX_READS:
            _transition(
                delivery, lease, DeliveryStatus.REVIEW, reads=reads,
                error=f"Could not read the invoice back ({reads} tries): {e.message}",
            )  # fmt: skip
            return "review: the read-back failed"
        wait = datetime.timedelta(seconds=backoff_seconds(reads))
        _transition(
            delivery, lease, DeliveryStatus.RECONCILING, reads=reads,
            next_at=timezone.now() + wait, error=f"Read-back failed: {e.message}",
        )  # fmt: skip
        return "read-back failed: try again later"
    _attempt_finish(attempt, PostResult(Outcome.SUCCESS, record.exchange))
    breaker_record(state=lease.breaker, outcome=Outcome.SUCCESS)
    before = Decimal(delivery.snapshot["figure"])
    now_figure = connector.reconciliation_figure(record.record)
    expected = connector.figure_after_payment(before, payment.amount)
    if now_figure is not None and now_figure == expected and expected != before:
        _transition(
            delivery, lease, DeliveryStatus.POSTED, reads=reads,
            error=f"Confirmed by read-back: {before} became {now_figure}.",
        )  # fmt: skip
        return "posted (confirmed by read-back)"
    if now_figure is not None and now_figure == before:
        _transition(
            delivery, lease, DeliveryStatus.PENDING, reads=reads, next_at=timezone.now(),
            error=f"Not applied (read-back shows {now_figure}, as before the post): posting again.",
        )  # fmt: skip
        _enqueue(delivery.pk)
        return "not applied: posting again"
    _transition(
        delivery,
        lease,
        DeliveryStatus.REVIEW,
        reads=reads,
        error=f"Cannot tell: the figure was {before} before the post, is {now_figure} now, "
        f"and would be {expected} with this payment.",
    )
    return "review: the read-back does not match"


def _post_reversal(lease: Lease, connector: Connector) -> str:
    delivery = lease.delivery
    reversal = delivery.reversal
    attempt = _attempt_start(delivery, AttemptKind.POST)
    try:
        result = connector.post_reversal(
            ReversalRequest(
                payment_guid=str(delivery.payment.payment_guid),
                invoice_number=delivery.payment.invoice_number,
                account_number=delivery.payment.account_number,
                amount=delivery.payment.amount,
                kind=reversal.kind,
                return_code=reversal.return_code,
            )
        )
    except NotSupported as e:
        result = PostResult(Outcome.REJECTED, None, message=str(e), error_code="not_supported")
    _attempt_finish(attempt, result)
    breaker_record(state=lease.breaker, outcome=result.outcome, error_code=result.error_code)
    return _apply_post_result(delivery, lease, result, now=timezone.now(), snapshot=None)


# -- writing it down ------------------------------------------------------------


def _attempt_start(delivery: Delivery, kind: str) -> DeliveryAttempt:
    """Written (autocommit) before the call: a crash leaves it without an outcome."""
    return DeliveryAttempt.objects.create(delivery=delivery, kind=kind, started_at=timezone.now())


def _attempt_finish(attempt: DeliveryAttempt, result: PostResult) -> None:
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


def _transition(
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
) -> bool:
    """Move a delivery (and its payment) to `status`, releasing the lease; a worker
    whose lease was taken over writes nothing. Returns whether it was written."""
    now = timezone.now()
    changes = {"status": status, "lease_token": None, "lease_until": None, "updated_at": now}
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
        status = {
            DeliveryStatus.POSTED: ReversalStatus.DELIVERED,
            DeliveryStatus.REJECTED: ReversalStatus.TO_APPLY,
            DeliveryStatus.DEAD: ReversalStatus.TO_APPLY,
        }.get(delivery.status)
        if status:
            Reversal.objects.filter(pk=delivery.reversal_id).update(status=status)
        return
    changes = {"status": PAYMENT_STATUS[delivery.status], "updated_at": timezone.now()}
    if receipt:
        changes["receipt_number"] = receipt[:100]
    Payment.objects.filter(pk=payment_id).update(**changes)


# -- the sweep ------------------------------------------------------------------


def deliveries_sweep(*, limit: int = 1000) -> int:
    """Enqueue a task for every delivery that is due and not leased (retries,
    read-backs, held deliveries whose breaker closed, deliveries whose task was
    lost with a killed worker or a Redis restart). Returns how many."""
    now = timezone.now()
    overdue = now - datetime.timedelta(seconds=settings.ICI_PUMP_REQUEUE_SECONDS)
    # A partner whose breaker is open gets no tasks until it closes: they would
    # only be held again, and pile up in the queue in front of everyone else's.
    held = CircuitBreaker.objects.filter(open_until__gt=now).values_list("partner", flat=True)
    due = list(
        Delivery.objects.filter(due_q(now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=overdue))
        .exclude(partner__in=list(held))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        _enqueue(pk)
    return len(due)
