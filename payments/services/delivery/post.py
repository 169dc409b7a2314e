"""The post: the partner's figure for the invoice read before it (the snapshot
a reconciliation compares with), the post itself, and what its outcome makes of
the delivery. A reversal is posted the same way, without a snapshot."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billers.models import RefreshSource
from billers.zones import day_in_zone
from icintegrations.errors import ErrorCode
from partners.connectors.base import Connector, PaymentRequest, PostResult, ReversalRequest
from partners.connectors.errors import NotSupported, Outcome, PartnerAuthError, PartnerError
from partners.connectors.registry import connector_build
from partners.selectors import connector_config_by_id
from payments.models import (
    AttemptKind,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryStatus,
    Payment,
)
from payments.services.breaker import breaker_record
from payments.services.delivery.hold import delivery_credentials_refused
from payments.services.delivery.results import Detailed, Lease, Result, RunResult
from payments.services.delivery.state import (
    attempt_finish,
    attempt_start,
    backoff_seconds,
    delivery_transition,
)

RTDR_SOURCES = (RefreshSource.RTDR_GENERATE, RefreshSource.RTDR_REFRESH)


def connector_for(delivery: Delivery) -> Connector:
    return connector_build(connector_config_by_id(biller_id=delivery.biller_id))


def payment_request(payment: Payment, *, time_zone: str) -> PaymentRequest:
    """The payment as the connector posts it; its date is the biller's day."""
    return PaymentRequest(
        payment_guid=str(payment.payment_guid),
        invoice_number=payment.invoice_number,
        account_number=payment.account_number,
        amount=payment.amount,
        method=payment.method,
        approval_code=payment.approval_code,
        payer_name=payment.payer_name,
        paid_on=day_in_zone(payment.paid_at, time_zone=time_zone),
    )


def delivery_post(lease: Lease) -> RunResult:
    delivery, payment = lease.delivery, lease.delivery.payment
    connector = connector_for(delivery)
    if delivery.kind == DeliveryKind.REVERSAL:
        return _post_reversal(lease, connector)
    snapshot = None
    if delivery.kind == DeliveryKind.PAYMENT:
        began = timezone.now()
        snapshot, failure = _snapshot(lease, connector)
        if failure is not None:
            verdict = post_result_apply(
                delivery, lease, failure, now=timezone.now(), snapshot=None, called_at=began
            )
            return Detailed(Result.SNAPSHOT_FAILED, verdict)
    # The snapshot is written before the post's attempt row, and both before the
    # post, so that whoever reconciles the post (this worker, or the sweep if this
    # one dies) reads it back against it. A crash between the two leaves a
    # snapshot and no post: the delivery is simply taken again.
    if not Delivery.objects.filter(pk=delivery.pk, lease_token=lease.token).update(
        snapshot=snapshot
    ):
        return Result.LEASE_LOST
    delivery.snapshot = snapshot
    attempt = attempt_start(delivery, AttemptKind.POST)
    result = connector.post_payment(payment_request(payment, time_zone=connector.config.time_zone))
    with transaction.atomic():  # one commit for the attempt, the delivery and the payment
        attempt_finish(attempt, result)
        breaker_record(
            state=lease.breaker,
            outcome=result.outcome,
            error_code=result.error_code,
            message=result.message,
        )
        return post_result_apply(
            delivery, lease, result, now=timezone.now(), snapshot=snapshot,
            called_at=attempt.started_at,
        )  # fmt: skip


def _snapshot(lease: Lease, connector: Connector) -> tuple[dict | None, PostResult | None]:
    """The partner's figure for the invoice before the post: from the payer's
    RTDR lookup when it is recent and no post to the invoice has happened since,
    otherwise read now. Returns (snapshot, None), or (None, failure) when the
    partner could not be read or refused the biller's credentials (then nothing
    is posted)."""
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
    attempt = attempt_start(delivery, AttemptKind.SNAPSHOT)
    try:
        record = connector.fetch_invoice(delivery.invoice_number)
    except PartnerError as e:
        result = PostResult.of_error(e)
        attempt_finish(attempt, result)
        if isinstance(e, PartnerAuthError):
            # The biller's credentials refused: nothing is posted; held (post_result_apply).
            return None, result
        if e.outcome == Outcome.REJECTED:
            # The partner does not know the invoice: post anyway;
            # its answer decides, and an unknown outcome will go to review.
            return None, None
        breaker_record(state=lease.breaker, outcome=e.outcome, error_code=e.code, message=e.message)
        # Nothing was posted: as safe to retry as a post that was not sent.
        return None, PostResult(
            Outcome.NOT_SENT, None, message=f"Read before the post failed: {e.message}",
            error_code=e.code,
        )  # fmt: skip
    attempt_finish(attempt, PostResult(Outcome.SUCCESS, record.exchange))
    figure = connector.reconciliation_figure(record.record)
    if figure is None:
        return None, None
    return {"figure": str(figure), "source": "read", "at": timezone.now().isoformat()}, None


def post_result_apply(
    delivery: Delivery,
    lease: Lease | None,
    result: PostResult,
    *,
    now: datetime.datetime,
    snapshot: dict | None,
    called_at: datetime.datetime | None = None,
) -> RunResult:
    """What a post's outcome makes of the delivery: posted, rejected, a retry (or
    a dead letter), or, for an unknown outcome, a reconciliation (or a review).
    Refused credentials (401/403) reject nothing: the delivery is held, and the
    post is not counted (`called_at`: when the post began)."""
    if result.error_code == ErrorCode.PARTNER_AUTH_FAILED:
        return delivery_credentials_refused(
            delivery, lease, message=result.message, called_at=called_at
        )
    attempts = delivery.attempts + 1
    if result.outcome == Outcome.SUCCESS:
        delivery_transition(
            delivery, lease, DeliveryStatus.POSTED, attempts=attempts, snapshot=snapshot,
            receipt=result.receipt_number, error="",
        )  # fmt: skip
        return Result.POSTED
    if result.outcome == Outcome.REJECTED:
        delivery_transition(
            delivery, lease, DeliveryStatus.REJECTED, attempts=attempts, snapshot=snapshot,
            error=result.message,
        )  # fmt: skip
        return Result.REJECTED
    if result.outcome == Outcome.NOT_SENT:
        if attempts >= settings.ICI_PUMP_MAX_ATTEMPTS:
            delivery_transition(
                delivery, lease, DeliveryStatus.DEAD, attempts=attempts, snapshot=snapshot,
                error=f"Dead letter after {attempts} tries: {result.message}",
            )  # fmt: skip
            return Result.DEAD_LETTER
        wait = datetime.timedelta(seconds=backoff_seconds(attempts))
        delivery_transition(
            delivery, lease, DeliveryStatus.PENDING, attempts=attempts, snapshot=snapshot,
            next_at=now + wait, error=result.message,
        )  # fmt: skip
        return Detailed(Result.NOT_SENT, f"retry in {wait.total_seconds():.1f} s")
    if delivery.kind != DeliveryKind.PAYMENT or snapshot is None:
        delivery_transition(
            delivery, lease, DeliveryStatus.REVIEW, attempts=attempts, snapshot=snapshot,
            error=f"Outcome unknown and nothing to reconcile against: {result.message}",
        )  # fmt: skip
        return Result.REVIEW_NO_SNAPSHOT
    delivery_transition(
        delivery, lease, DeliveryStatus.RECONCILING, attempts=attempts, snapshot=snapshot,
        next_at=now + datetime.timedelta(seconds=settings.ICI_PUMP_RECONCILE_DELAY),
        error=f"Outcome unknown: {result.message}",
    )  # fmt: skip
    return Result.RECONCILING


def _post_reversal(lease: Lease, connector: Connector) -> RunResult:
    delivery = lease.delivery
    reversal = delivery.reversal
    attempt = attempt_start(delivery, AttemptKind.POST)
    # A reversal's delivery is only made with its reversal (services/reversals.py).
    assert reversal is not None
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
        result = PostResult(
            Outcome.REJECTED, None, message=str(e), error_code=ErrorCode.NOT_SUPPORTED
        )
    attempt_finish(attempt, result)
    breaker_record(state=lease.breaker, outcome=result.outcome, error_code=result.error_code)
    return post_result_apply(
        delivery, lease, result, now=timezone.now(), snapshot=None, called_at=attempt.started_at
    )
