"""Payments as the Data Pump leaves them, for the portal's page tests."""

import datetime
from decimal import Decimal

from payments.models import (
    AttemptKind,
    AttemptOutcome,
    DeliveryKind,
    DeliveryStatus,
    PaymentStatus,
    ReversalStatus,
)
from tests.payments.factories import (
    DeliveryAttemptFactory,
    DeliveryFactory,
    PaymentFactory,
    ReversalFactory,
)

T0 = datetime.datetime(2026, 11, 20, 17, 15, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def posted_payment(biller, *, receipt="RCPT-77812", **fields):
    """Read before the post, then posted: what a good day looks like."""
    payment = PaymentFactory(
        biller=biller, status=PaymentStatus.POSTED, receipt_number=receipt, paid_at=T0, **fields
    )
    delivery = DeliveryFactory(
        payment=payment, status=DeliveryStatus.POSTED, attempts=1, finished_at=at(2)
    )
    DeliveryAttemptFactory(
        delivery=delivery, kind=AttemptKind.SNAPSHOT, started_at=at(1),
        outcome=AttemptOutcome.SUCCESS, status_code=200, duration_ms=41.0, error_code="",
        message="",
    )  # fmt: skip
    DeliveryAttemptFactory(
        delivery=delivery, kind=AttemptKind.POST, started_at=at(1.5),
        outcome=AttemptOutcome.SUCCESS, status_code=200, duration_ms=233.4, error_code="",
        message="", receipt_number=receipt,
    )  # fmt: skip
    return payment


def reversal_to_apply(biller, *, kind="void", return_code="", **payment_fields):
    """A posted payment and its reversal the partner has no call for."""
    payment = posted_payment(biller, **payment_fields)
    return ReversalFactory(payment=payment, kind=kind, return_code=return_code)


def reversal_the_partner_refused(biller):
    """A reversal sent through the pump, refused: now the biller's to apply."""
    reversal = reversal_to_apply(biller)
    delivery = DeliveryFactory(
        kind=DeliveryKind.REVERSAL, payment=reversal.payment, reversal=reversal,
        status=DeliveryStatus.REJECTED, attempts=1, finished_at=at(600),
        last_error="Voids are not accepted for closed periods.",
    )  # fmt: skip
    DeliveryAttemptFactory(
        delivery=delivery, kind=AttemptKind.POST, started_at=at(599),
        outcome=AttemptOutcome.REJECTED, status_code=422, duration_ms=120.0,
        error_code="partner_rejected", message="Voids are not accepted for closed periods.",
    )  # fmt: skip
    reversal.status = ReversalStatus.TO_APPLY
    return reversal


MONEY = Decimal("50.00")
