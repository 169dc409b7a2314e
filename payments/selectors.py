"""Reads of payments and their deliveries."""

import uuid

from billers.models import Biller
from icintegrations.errors import NotFoundError
from payments.models import DeliveryAttempt, Payment


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
