"""The record of real-time partner calls is kept ICI_PARTNER_CALL_KEEP_DAYS, then deleted."""

import datetime

import pytest
from django.utils import timezone
from django_q.models import Schedule

from partners.models import PartnerCall
from partners.services import retention
from partners.tasks import prune_task
from tests.billers.factories import BillerFactory
from tests.partners.factories import PartnerCallFactory

pytestmark = pytest.mark.django_db


def calls(biller, *, days_ago, count=1):
    made = [
        PartnerCallFactory(
            biller=biller,
            partner="IMT",
            operation="lookup",
            invoice_number=f"INV{days_ago}-{n}",
            outcome="success",
        )
        for n in range(count)
    ]
    PartnerCall.objects.filter(pk__in=[c.pk for c in made]).update(
        created_at=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return made


def test_calls_older_than_the_setting_are_deleted_in_batches(settings, monkeypatch):
    settings.ICI_PARTNER_CALL_KEEP_DAYS = 30
    monkeypatch.setattr(retention, "BATCH", 2)
    biller = BillerFactory()
    calls(biller, days_ago=31, count=5)
    recent = calls(biller, days_ago=29, count=2)

    assert prune_task() == 5

    assert list(PartnerCall.objects.order_by("pk")) == recent
    assert prune_task() == 0


def test_a_zero_setting_keeps_every_call(settings):
    settings.ICI_PARTNER_CALL_KEEP_DAYS = 0
    calls(BillerFactory(), days_ago=4000)

    assert prune_task() == 0
    assert PartnerCall.objects.count() == 1


def test_the_retention_is_scheduled_daily_by_the_migrations():
    schedule = Schedule.objects.get(name="Partner call retention")
    assert schedule.func == "partners.tasks.prune_task"
    assert (schedule.schedule_type, schedule.repeats) == (Schedule.DAILY, -1)
