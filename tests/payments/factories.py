import datetime
import hashlib
import uuid
from decimal import Decimal

import factory

from payments.models import (
    AttemptKind,
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    Payment,
    PaymentMethod,
    Reversal,
    ReversalKind,
    ReversalStatus,
)
from tests.billers.factories import BillerFactory


def _now():
    return datetime.datetime.now(datetime.UTC)


def _fingerprint(*parts) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    payment_guid = factory.LazyFunction(uuid.uuid4)
    biller = factory.SubFactory(BillerFactory)
    invoice_number = factory.Sequence(lambda n: f"INV{n:06d}")
    account_number = factory.Sequence(lambda n: f"ACCT{n:05d}")
    amount = Decimal("50.00")
    service_fee = Decimal("1.95")
    payment_source = "Web CC"
    method = PaymentMethod.CARD
    approval_code = "1234123"
    payer_name = "John Smith"
    paid_at = factory.LazyFunction(_now)
    request_fingerprint = factory.LazyAttribute(lambda o: _fingerprint(o.payment_guid, o.amount))


class DeliveryFactory(factory.django.DjangoModelFactory):
    """The payment's delivery to its biller's partner."""

    class Meta:
        model = Delivery

    kind = DeliveryKind.PAYMENT
    payment = factory.SubFactory(PaymentFactory)
    biller = factory.SelfAttribute("payment.biller")
    partner = factory.LazyAttribute(lambda o: o.biller.partner)
    invoice_number = factory.SelfAttribute("payment.invoice_number")
    next_attempt_at = factory.LazyFunction(_now)


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    """A post the partner did not answer; the exchange as the connectors record it."""

    class Meta:
        model = DeliveryAttempt

    delivery = factory.SubFactory(DeliveryFactory)
    kind = AttemptKind.POST
    started_at = factory.LazyFunction(_now)
    outcome = AttemptOutcome.UNKNOWN
    status_code = 502
    duration_ms = 812.5
    error_code = "partner_unknown"
    message = "The partner answered 502 Bad Gateway."
    exchange = factory.LazyAttribute(
        lambda o: {
            "method": "POST",
            "url": "https://partner.example.test/api/payments",
            "request_headers": {"Authorization": "***", "Content-Type": "application/json"},
            "request_body": f'{{"invoice": "{o.delivery.invoice_number}", "key": "***"}}',
            "status_code": o.status_code,
            "response_body": "Bad Gateway",
            "duration_ms": o.duration_ms,
            "error": "",
        }
    )


class ReversalFactory(factory.django.DjangoModelFactory):
    """A void the partner has no call for: waiting for the biller to apply it."""

    class Meta:
        model = Reversal

    payment = factory.SubFactory(PaymentFactory)
    kind = ReversalKind.VOID
    status = ReversalStatus.TO_APPLY
    reason = "Payer asked to cancel."
    request_fingerprint = factory.LazyAttribute(lambda o: _fingerprint(o.kind, o.reason))
