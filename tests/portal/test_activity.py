"""The activity page: payments per day by delivery outcome, as an SVG chart and a table."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.models import Payment, PaymentStatus, ReversalStatus
from portal.selectors.activity import payment_activity
from tests.payments.factories import PaymentFactory, ReversalFactory
from tests.support.clock import clock_at

PHOENIX = "America/Phoenix"  # UTC-7 all year


def received(biller, when: datetime.datetime, status=PaymentStatus.POSTED, **fields) -> Payment:
    """A payment paid at `when`, and received by the hub then too unless `created_at` says."""
    created_at = fields.pop("created_at", when)
    payment = PaymentFactory(biller=biller, status=status, paid_at=when, **fields)
    Payment.objects.filter(pk=payment.pk).update(created_at=created_at)
    return payment


def in_zone(biller, time_zone: str) -> None:
    biller.time_zone = time_zone
    biller.save(update_fields=["time_zone"])


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)


def test_days_are_counted_in_the_billers_time_zone(biller, settings):
    in_zone(biller, PHOENIX)
    settings.TIME_ZONE = "Asia/Tokyo"  # the server's zone plays no part
    received(biller, utc(2026, 11, 20, 6, 59))  # 23:59 on the 19th in Phoenix
    received(biller, utc(2026, 11, 20, 7, 0))  # midnight on the 20th
    received(biller, utc(2026, 11, 21, 6, 0))  # 23:00 on the 20th

    days = payment_activity(biller=biller, days=3, today=datetime.date(2026, 11, 20))

    assert [(d.day.isoformat(), d.total) for d in days] == [
        ("2026-11-18", 0), ("2026-11-19", 1), ("2026-11-20", 2),
    ]  # fmt: skip


def test_payments_are_counted_by_outcome_and_summed(biller, other_biller):
    day = utc(2026, 11, 20, 15)
    for status in (PaymentStatus.POSTED, PaymentStatus.POSTED, PaymentStatus.PENDING,
                   PaymentStatus.REVIEW, PaymentStatus.REJECTED, PaymentStatus.FAILED,
                   PaymentStatus.REVERSED):  # fmt: skip
        received(biller, day, status, amount=Decimal("10.00"))
    voided = received(biller, day, PaymentStatus.POSTED, amount=Decimal("10.00"))
    ReversalFactory(payment=voided, status=ReversalStatus.TO_APPLY)
    voided_after_a_refusal = received(biller, day, PaymentStatus.REJECTED, amount=Decimal("10"))
    ReversalFactory(payment=voided_after_a_refusal, status=ReversalStatus.NOT_NEEDED)
    received(other_biller, day, PaymentStatus.POSTED)
    received(biller, utc(2026, 11, 10), PaymentStatus.POSTED)  # before the 7 days

    days = payment_activity(biller=biller, days=7, today=datetime.date(2026, 11, 20))

    assert len(days) == 7 and days[-1].day == datetime.date(2026, 11, 20)
    assert days[-1].counts == {
        "posted": 2, "pending": 1, "review": 1, "rejected": 2, "failed": 1, "reversed": 2,
    }  # fmt: skip
    assert days[-1].total == 9
    assert days[-1].amount == Decimal("90.00")
    assert all(d.total == 0 and d.amount == 0 for d in days[:-1])


def test_the_page_draws_a_bar_per_day_with_a_title_and_a_table(portal, biller):
    now = timezone.now()
    received(biller, now, PaymentStatus.POSTED, amount=Decimal("25.00"))
    received(biller, now, PaymentStatus.POSTED, amount=Decimal("25.00"))
    received(biller, now, PaymentStatus.REJECTED, amount=Decimal("5.00"))

    response = portal.get(reverse("portal:activity", kwargs={"bid": biller.bid}))

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    svg = page[page.index("<svg") : page.index("</svg>")]
    bars = re.findall(r'<g class="bar">\s*<title>([^<]*)</title>', svg)
    assert len(bars) == 30
    today = timezone.localdate()
    assert bars[-1] == f"{today:%a %Y-%m-%d}: 3 payments (2 posted, 1 rejected)"
    assert bars[0].endswith(": 0 payments")
    assert svg.count('data-outcome="posted"') == 1 and svg.count('data-outcome="rejected"') == 1
    assert "Payments received per day, last 30 days, by delivery outcome (3 in all)" in page
    table = page[page.index("<table") : page.index("</table>")]
    counts = r'(<td class="num">\d+</td>){7}'
    assert re.search(rf'<td>{today:%a %Y-%m-%d}</td>{counts}<td class="num">\$55\.00</td>', table)
    assert "<script" not in page and "cdn" not in page.lower()


def test_a_day_with_the_most_payments_fills_the_chart(portal, biller):
    for _ in range(5):
        received(biller, timezone.now())

    page = portal.get(reverse("portal:activity", kwargs={"bid": biller.bid}) + "?days=7")
    svg = page.content.decode()

    # 5 payments on a scale topped at 5: the bar spans the plot's whole height
    assert re.search(r'<rect x="[\d.]+" y="10\.0" width="[\d.]+" height="222\.0"', svg)
    assert svg.count('<g class="bar">') == 7


@pytest.mark.parametrize("days", ["7", "30", "90"])
def test_the_period_can_be_chosen(portal, biller, days):
    response = portal.get(reverse("portal:activity", kwargs={"bid": biller.bid}), {"days": days})
    assert response.status_code == 200
    assert response.content.decode().count('<g class="bar">') == int(days)
    assert 'aria-current="page">Last ' + days in response.content.decode()


@pytest.mark.parametrize("days", ["12", "abc", "-7", "100000"])
def test_another_period_is_a_400_that_says_which_are_offered(portal, biller, days):
    response = portal.get(reverse("portal:activity", kwargs={"bid": biller.bid}), {"days": days})
    assert response.status_code == 400
    assert "Choose 7, 30 or 90 days" in html.unescape(response.content.decode())


def test_another_billers_activity_is_not_found(portal, other_biller):
    received(other_biller, timezone.now())
    response = portal.get(reverse("portal:activity", kwargs={"bid": other_biller.bid}))
    assert response.status_code == 404


def test_a_day_when_the_clocks_go_back_is_one_day(biller):
    in_zone(biller, "America/New_York")  # EDT ends at 06:00 UTC on 2026-11-01
    received(biller, utc(2026, 11, 1, 3, 59))  # 23:59 EDT on Oct 31
    received(biller, utc(2026, 11, 1, 4, 0))  # 00:00 EDT on Nov 1
    received(biller, utc(2026, 11, 1, 5, 59))  # 01:59 EDT
    received(biller, utc(2026, 11, 1, 6, 0))  # 01:00 EST, the second time
    received(biller, utc(2026, 11, 2, 4, 59))  # 23:59 EST on Nov 1
    received(biller, utc(2026, 11, 2, 5, 0))  # 00:00 EST on Nov 2

    days = payment_activity(biller=biller, days=3, today=datetime.date(2026, 11, 2))

    assert [(d.day.isoformat(), d.total) for d in days] == [
        ("2026-10-31", 1), ("2026-11-01", 4), ("2026-11-02", 1),
    ]  # fmt: skip


def test_a_half_hour_time_zone_counts_its_days_right(biller):
    in_zone(biller, "Asia/Kolkata")  # UTC+05:30
    received(biller, utc(2026, 11, 19, 18, 29))  # 23:59 on the 19th
    received(biller, utc(2026, 11, 19, 18, 30))  # midnight on the 20th

    days = payment_activity(biller=biller, days=2, today=datetime.date(2026, 11, 20))

    assert [d.total for d in days] == [1, 1]


def test_the_range_is_cut_where_daylight_saving_changes():
    from zoneinfo import ZoneInfo

    from portal.selectors.activity import _constant_offsets

    tz = ZoneInfo("America/New_York")
    start = datetime.datetime(2026, 10, 30, tzinfo=tz)
    end = datetime.datetime(2026, 11, 3, tzinfo=tz)

    pieces = _constant_offsets(tz, start, end)

    assert [(a, b, o.total_seconds() / 3600) for a, b, o in pieces] == [
        (start, utc(2026, 11, 1, 6), -4.0), (utc(2026, 11, 1, 6), end, -5.0),
    ]  # fmt: skip
    assert len(_constant_offsets(ZoneInfo("UTC"), start, end)) == 1


def test_a_payment_counts_on_the_day_it_was_paid_not_the_day_it_arrived(biller):
    in_zone(biller, PHOENIX)
    # paid at 23:30 on the 19th in Phoenix, received by the hub on the 21st
    late = received(biller, utc(2026, 11, 20, 6, 30), created_at=utc(2026, 11, 21, 15))
    ReversalFactory(payment=late, status=ReversalStatus.TO_APPLY)
    received(biller, utc(2026, 11, 20, 7, 30), created_at=utc(2026, 11, 21, 15))

    days = payment_activity(biller=biller, days=3, today=datetime.date(2026, 11, 21))

    assert [(d.day.isoformat(), d.total) for d in days] == [
        ("2026-11-19", 1), ("2026-11-20", 1), ("2026-11-21", 0),
    ]  # fmt: skip
    assert days[0].counts["reversed"] == 1 and days[1].counts["posted"] == 1


def test_the_page_ends_on_the_billers_today_around_its_midnight(portal, biller, monkeypatch):
    # 05:58Z on November 24th is 22:58 on the 23rd in Phoenix
    in_zone(biller, PHOENIX)
    clock_at(monkeypatch, utc(2026, 11, 24, 5, 58))
    received(biller, utc(2026, 11, 24, 5, 50))  # 22:50 on the 23rd in Phoenix
    received(biller, utc(2026, 11, 23, 6, 59))  # 23:59 on the 22nd

    page = html.unescape(
        portal.get(
            reverse("portal:activity", kwargs={"bid": biller.bid}), {"days": "7"}
        ).content.decode()
    )

    bars = re.findall(r'<g class="bar">\s*<title>([^<]*)</title>', page)
    assert bars[-1] == "Mon 2026-11-23: 1 payment (1 posted)"
    assert bars[-2] == "Sun 2026-11-22: 1 payment (1 posted)"
    assert "Days are in America/Phoenix." in page
