"""Enqueue, claim and lease: who works on a delivery, and when.

A worker claims a due delivery and takes a lease with one conditional UPDATE
(or, for a delivery whose lease ran out, `select_for_update(skip_locked=True)`
and a recovery of what its lost worker left). Only one delivery per invoice is
in flight or reconciling at a time (a partial unique constraint): a delivery
whose invoice is busy waits.
"""

import datetime
import logging
import random
import uuid
from contextlib import nullcontext

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from icintegrations.errors import ErrorCode
from icintegrations.middleware import current_request_id
from partners.connectors.base import PostResult
from partners.connectors.errors import Outcome
from payments.models import (
    AttemptKind,
    CredentialHold,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
)
from payments.queries import due_q
from payments.services.breaker import breaker_state
from payments.services.delivery.hold import delivery_hold_check, held_count
from payments.services.delivery.post import post_result_apply
from payments.services.delivery.results import Detailed, Lease, Result, RunResult
from payments.services.delivery.state import delivery_transition

logger = logging.getLogger("payments.services.delivery")

# A delivery whose invoice is busy with another delivery waits this long.
BUSY_WAIT = datetime.timedelta(seconds=2)


def delivery_request_id() -> str | None:
    """The running request's id, to store on a new delivery (None outside a request)."""
    request_id = current_request_id()
    return None if request_id == "-" else request_id


def delivery_enqueue(delivery_id: int, *, request_id: str | None = None) -> None:
    """Trigger the delivery's task once the transaction that wrote it commits.
    `request_id`: the delivery's own (`Delivery.request_id`), for the worker's lines."""
    transaction.on_commit(lambda: delivery_task_enqueue(delivery_id, request_id=request_id))


def delivery_task_enqueue(delivery_id: int, *, request_id: str | None = None) -> None:
    """Trigger the delivery's task now (outside any transaction of the caller's).
    `request_id`: the id of the request that took the payment, stored on the
    delivery; every task of it (first run, retries, the sweep's) logs under it.
    A delivery without one (written before it was stored) takes the running
    request's, if any."""
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
            # The worker's log lines of this delivery carry the request's id.
            request_id=request_id or delivery_request_id(),
            q_options={"ack_failure": True, "save": False},
        )
    except Exception:  # the broker is down: the row is safe, the next sweep retries it
        logger.exception("Data Pump: could not enqueue delivery %s; the sweep will", delivery_id)
        try:
            rows.update(enqueued_at=None)
        except Exception:  # the database too: ICI_PUMP_REQUEUE_SECONDS still bounds the wait
            logger.exception("Data Pump: could not unmark delivery %s", delivery_id)


def delivery_claim(delivery_id: int) -> Lease | RunResult:
    """Take the delivery's lease if it is due and nobody holds one; otherwise say
    why not. The common case is one conditional UPDATE (its row lock is the
    claim) and two small SELECTs; a delivery whose lease ran out goes the locked
    way, to recover what its lost worker left. A delivery of a biller whose
    credentials are held is parked untried, unless it is the hold's probe."""
    claimed = _claim(delivery_id)
    if isinstance(claimed, Lease) and claimed.hold_since is not None:
        return delivery_hold_check(claimed)
    return claimed


def _claim(delivery_id: int) -> Lease | RunResult:
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
    # The biller's credential hold, if any, comes with the row (one subquery).
    hold_since = CredentialHold.objects.filter(biller_id=OuterRef("biller_id")).values("since")
    delivery = (
        Delivery.objects.select_related("payment__invoice", "biller")
        .annotate(hold_since=Subquery(hold_since[:1]))
        .get(pk=delivery_id)
    )
    return Lease(
        delivery,
        token,
        breaker_state(partner=delivery.partner),
        hold_since=getattr(delivery, "hold_since", None),
    )


def _held(delivery: Delivery) -> Detailed:
    return Detailed(Result.HELD, f"the {delivery.partner} breaker is open")


def _hold(lease: Lease, now: datetime.datetime) -> Detailed:
    """The partner's breaker is open: give the lease back, untried, until it closes."""
    delivery = lease.delivery
    assert lease.breaker.open_until is not None  # the caller saw the breaker open
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
    return _held(delivery)


def _busy(delivery_id: int, now: datetime.datetime) -> Result:
    """Another delivery of the same invoice is in flight or reconciling. If it is
    held for the biller's credentials, so is this one (it would wait for it)."""
    rows = Delivery.objects.filter(pk=delivery_id)
    with transaction.atomic():
        hold = (
            CredentialHold.objects.select_for_update()
            .filter(biller_id=Subquery(rows.values("biller_id")[:1]), since__isnull=False)
            .first()
        )
        rows.update(next_attempt_at=now + BUSY_WAIT, enqueued_at=None, held=hold is not None)
        if hold is not None:
            hold.held = held_count(biller_id=hold.biller_id)
            hold.save(update_fields=["held", "updated_at"])
    return Result.BUSY


def _claim_locked(delivery_id: int, now: datetime.datetime) -> Lease | RunResult:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(due_q(now), pk=delivery_id)
            .first()
        )
        if delivery is None:
            return Result.NOT_DUE
        if delivery.lease_token is not None:
            # Its lease ran out: the worker died (or hung) mid-step.
            verdict = _recover(delivery, now)
            if verdict is not None:
                return verdict
        breaker = breaker_state(partner=delivery.partner)
        if breaker.is_open(now):
            assert breaker.open_until is not None  # is_open() says so
            spread = random.uniform(0, settings.ICI_PUMP_BREAKER_COOLDOWN)
            delivery.next_attempt_at = breaker.open_until + datetime.timedelta(seconds=spread)
            delivery.enqueued_at = None
            delivery.save(update_fields=["next_attempt_at", "enqueued_at", "updated_at"])
            return _held(delivery)
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


def _recover(delivery: Delivery, now: datetime.datetime) -> RunResult | None:
    """A delivery left in flight by a lost worker: what did it get done? None
    when nothing is settled and the delivery is to be taken again."""
    last = delivery.attempt_rows.order_by("-started_at", "-id").first()
    running = last is not None and not last.outcome
    if running:
        assert last is not None  # running says so
        DeliveryAttempt.objects.filter(pk=last.pk).update(
            outcome=Outcome.UNKNOWN,
            error_code=ErrorCode.WORKER_LOST,
            message="The worker stopped before the call ended (lease expired).",
        )
    if delivery.status == DeliveryStatus.RECONCILING:
        return None  # only a read-back was under way: read again
    if last is not None and last.kind == AttemptKind.POST and running:
        # The post may have reached the partner: never post again unread.
        delivery_transition(
            delivery,
            None,
            DeliveryStatus.RECONCILING,
            next_at=now + datetime.timedelta(seconds=settings.ICI_PUMP_RECONCILE_DELAY),
            error="A worker was lost during the post; reconciling.",
        )
        return Result.RECOVERED_RECONCILING
    if last is not None and last.kind == AttemptKind.POST and last.outcome:
        # The post ended but the worker died before writing the delivery's state.
        post_result_apply(
            delivery, None, _result_of(last), now=now, snapshot=delivery.snapshot,
            called_at=last.started_at,
        )  # fmt: skip
        return Detailed(Result.RECOVERED, f"the post had ended ({last.outcome})")
    delivery.status = DeliveryStatus.PENDING  # only a read was under way: nothing posted
    return None


def _result_of(attempt: DeliveryAttempt) -> PostResult:
    return PostResult(
        Outcome(attempt.outcome),
        None,
        receipt_number=attempt.receipt_number,
        message=attempt.message,
        error_code=attempt.error_code,
    )
