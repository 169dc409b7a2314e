import uuid

import factory
from django.utils import timezone

from partners.models import PartnerCall, PartnerCallOutcome, RtdrFlight
from tests.billers.factories import BillerFactory


class PartnerCallFactory(factory.django.DjangoModelFactory):
    """One real-time call to a partner, a success. `created_at` is set on save
    (auto_now_add): age a call with a queryset update."""

    class Meta:
        model = PartnerCall

    biller = factory.SubFactory(BillerFactory)
    partner = "IMT"
    operation = "lookup"
    invoice_number = factory.Sequence(lambda n: f"INV{n:06d}")
    outcome = PartnerCallOutcome.SUCCESS


class RtdrFlightFactory(factory.django.DjangoModelFactory):
    """A real-time lookup in flight (not finished)."""

    class Meta:
        model = RtdrFlight

    biller = factory.SubFactory(BillerFactory)
    invoice_number = factory.Sequence(lambda n: f"INV{n:06d}")
    token = factory.LazyFunction(uuid.uuid4)
    started_at = factory.LazyFunction(timezone.now)
