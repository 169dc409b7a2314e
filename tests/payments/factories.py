import datetime
import uuid
from decimal import Decimal

import factory

from payments.models import Payment
from tests.billers.factories import BillerFactory


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
    approval_code = "1234123"
    payer_name = "John Smith"
    paid_at = factory.LazyFunction(lambda: datetime.datetime.now(datetime.UTC))
