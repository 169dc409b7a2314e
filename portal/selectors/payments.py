"""Reads behind the portal's page of a payment.

Every function takes the biller the caller got from `portal_biller` and reads
only that biller's rows: a row of another biller is not found, the same as a
row that does not exist.
"""

import uuid
from dataclasses import dataclass

from django.db.models import Prefetch

from billers.models import Biller
from payments.models import Delivery, DeliveryAttempt, DeliveryKind, Payment, Reversal

# What the timeline shows of an attempt: never its `exchange` (the raw request
# and answer), which is not even read.
ATTEMPT_FIELDS = (
    "id", "delivery_id", "kind", "started_at", "outcome", "status_code", "duration_ms",
    "receipt_number", "message",
)  # fmt: skip


@dataclass(frozen=True)
class PaymentDetail:
    payment: Payment
    delivery: Delivery | None  # the payment's own delivery, attempts prefetched
    reversal: Reversal | None
    reversal_delivery: Delivery | None


def payment_detail(*, biller: Biller, payment_guid: uuid.UUID) -> PaymentDetail | None:
    """A payment of `biller` with its deliveries and their attempts (oldest
    first), and its reversal; None when the biller has no such payment."""
    payment = (
        Payment.objects.select_related("reversal__applied_by")
        .filter(biller=biller, payment_guid=payment_guid)
        .first()
    )
    if payment is None:
        return None
    attempts = DeliveryAttempt.objects.only(*ATTEMPT_FIELDS).order_by("started_at", "id")
    deliveries = list(
        Delivery.objects.filter(payment=payment)
        .defer("snapshot")
        .prefetch_related(Prefetch("attempt_rows", queryset=attempts))
        .order_by("created_at", "id")
    )
    return PaymentDetail(
        payment=payment,
        delivery=next((d for d in deliveries if d.kind == DeliveryKind.PAYMENT), None),
        reversal=_reversal_of(payment),
        reversal_delivery=next((d for d in deliveries if d.kind == DeliveryKind.REVERSAL), None),
    )


def _reversal_of(payment: Payment) -> Reversal | None:
    try:
        return payment.reversal  # select_related filled it, or knows there is none
    except Reversal.DoesNotExist:
        return None
