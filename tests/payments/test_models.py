from decimal import Decimal

import pytest
from django.db import IntegrityError

from payments.models import Payment, PaymentStatus
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def test_a_new_payment_is_pending():
    payment = PaymentFactory()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_a_payment_guid_is_taken_once():
    payment = PaymentFactory()
    with pytest.raises(IntegrityError):
        PaymentFactory(payment_guid=payment.payment_guid)


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-5.00")])
def test_the_database_refuses_a_payment_of_nothing(amount):
    with pytest.raises(IntegrityError):
        PaymentFactory(amount=amount)


def test_the_database_refuses_a_negative_service_fee():
    with pytest.raises(IntegrityError):
        PaymentFactory(service_fee=Decimal("-0.01"))
