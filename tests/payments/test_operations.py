"""The operations page: each partner's calls, latency, breakers and waiting deliveries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from billers.models import Partner
from partners.models import PartnerCall
from payments.models import CircuitBreaker, DeliveryStatus
from payments.selectors_operations import operations_summary, percentile
from tests.billers.factories import BillerFactory
from tests.partners.factories import PartnerCallFactory
from tests.payments.factories import DeliveryAttemptFactory, DeliveryFactory

pytestmark = pytest.mark.django_db

URL = "/admin/operations/"


def _call(biller, duration, outcome="success", *, age=datetime.timedelta(minutes=5)):
    call = PartnerCallFactory(
        biller=biller, partner=biller.partner, operation="invoice_refresh",
        invoice_number="INV1", outcome=outcome, duration_ms=duration,
    )  # fmt: skip
    PartnerCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - age)


@pytest.fixture
def traffic():
    """IMT: 10 real-time calls in the last hour (8 succeeded), one two days old; 4 Data
    Pump attempts (3 succeeded) and one still running; 2 dead letters and a review item.
    CitizenServe: no call, an open breaker, a dead letter."""
    imt = BillerFactory(partner=Partner.IMT)
    citizenserve = BillerFactory(partner=Partner.CITIZENSERVE)
    outcomes = ["success"] * 8 + ["rejected", "unknown"]
    for duration, outcome in zip(range(100, 0, -10), outcomes, strict=True):
        _call(imt, float(duration), outcome)
    _call(imt, 1000.0, "not_sent", age=datetime.timedelta(days=2))

    delivery = DeliveryFactory(biller=imt, status=DeliveryStatus.POSTED)
    for duration, outcome in ((400, "success"), (100, "not_sent"), (300, "success"),
                              (200, "success")):  # fmt: skip
        DeliveryAttemptFactory(delivery=delivery, duration_ms=duration, outcome=outcome)
    DeliveryAttemptFactory(delivery=delivery, duration_ms=None, outcome="")  # running
    for _ in range(2):
        DeliveryFactory(biller=imt, status=DeliveryStatus.DEAD)
    DeliveryFactory(biller=imt, status=DeliveryStatus.REVIEW)
    DeliveryFactory(biller=citizenserve, status=DeliveryStatus.DEAD)

    now = timezone.now()
    CircuitBreaker.objects.create(
        partner=Partner.CITIZENSERVE,
        failures=5,
        opened_count=2,
        open_until=now + datetime.timedelta(minutes=4),
        last_failure="CitizenServe: connect timeout",
    )
    CircuitBreaker.objects.create(  # was open, and is not any more
        partner=Partner.IMT, failures=0, open_until=now - datetime.timedelta(minutes=1)
    )
    return imt, citizenserve


def _partner(summary, name):
    return next(p for p in summary.partners if p.partner == name)


def test_the_numbers_of_each_partner_over_the_last_24_hours(traffic):
    summary = operations_summary()

    imt = _partner(summary, "IMT")
    assert imt.realtime.calls == 10
    assert imt.realtime.success_rate == pytest.approx(80.0)
    assert dict(imt.realtime.by_outcome) == {
        "success": 8, "rejected": 1, "not_sent": 0, "unknown": 1,
    }  # fmt: skip
    assert imt.realtime.median_ms == pytest.approx(55.0)
    assert imt.realtime.p95_ms == pytest.approx(95.5)
    assert imt.pump.calls == 4  # the running attempt is not counted
    assert imt.pump.success_rate == pytest.approx(75.0)
    assert imt.pump.median_ms == pytest.approx(250.0)
    assert imt.pump.p95_ms == pytest.approx(385.0)
    assert (imt.dead_letters, imt.review_items, imt.breaker) == (2, 1, None)

    citizenserve = _partner(summary, "CitizenServe")
    assert citizenserve.realtime.calls == 0 and citizenserve.realtime.success_rate is None
    assert citizenserve.realtime.median_ms is None
    assert (citizenserve.dead_letters, citizenserve.review_items) == (1, 0)
    assert citizenserve.breaker.failures == 5
    assert citizenserve.breaker.last_failure == "CitizenServe: connect timeout"
    assert [b.partner for b in summary.open_breakers] == ["CitizenServe"]


def test_the_window_bounds_the_calls(traffic):
    week = _partner(operations_summary(window="7d"), "IMT")
    assert week.realtime.calls == 11
    assert week.realtime.p95_ms == pytest.approx(550.0)  # 100 + 0.5 * (1000 - 100)

    hour = _partner(operations_summary(window="1h"), "IMT")
    assert hour.realtime.calls == 10


def test_a_percentile_is_interpolated_as_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)
    assert percentile([float(n) for n in range(1, 101)], 0.95) == pytest.approx(95.05)


def test_the_page_shows_the_numbers_and_links_the_waiting_deliveries(admin_client, traffic):
    response = admin_client.get(URL)
    html = response.content.decode()

    assert response.status_code == 200
    assert "80.0 %" in html and "55.0 ms" in html and "95.5 ms" in html
    assert "75.0 %" in html and "250.0 ms" in html and "385.0 ms" in html
    assert 'id="open-breakers"' in html and "CitizenServe: connect timeout" in html
    dead = reverse("admin:payments_delivery_changelist") + (
        "?status__exact=dead&amp;partner__exact=IMT"
    )
    assert f'<a href="{dead}" class="dead-letters">2 dead letters</a>' in html
    assert "1 review item</a>" in html

    listed = admin_client.get(dead.replace("&amp;", "&"))
    assert [d.status for d in listed.context["cl"].result_list] == ["dead", "dead"]


def test_the_window_is_chosen_on_the_page(admin_client, traffic):
    week = admin_client.get(URL, {"window": "7d"})
    assert week.context["summary"].window == "7d"
    assert 'id="window-7d" class="selected"' in week.content.decode()

    unknown = admin_client.get(URL, {"window": "1y"})
    assert unknown.context["summary"].window == "24h"


def test_the_admin_home_links_to_the_operations_page(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{URL}">Operations</a>' in html


def test_someone_not_staff_is_sent_to_the_login_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("payer", password="pw"))

    response = client.get(URL)

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
