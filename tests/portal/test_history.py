"""The portal's payment history: filters, sort, keyset pages, totals, isolation."""

import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.models import Payment, PaymentMethod, PaymentStatus
from tests.billers.factories import PortalUserFactory
from tests.payments.factories import PaymentFactory, ReversalFactory

UTC = datetime.UTC


def at(day: int, hour: int = 12, minute: int = 0, tz=UTC) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=tz)


def history(client, biller, **params):
    return client.get(reverse("portal:payments", kwargs={"bid": biller.bid}), params)


def totals(client, biller, **params):
    return client.get(reverse("portal:payment_totals", kwargs={"bid": biller.bid}), params)


def shown(response) -> list[str]:
    """The invoice numbers of the rows on the page, top to bottom."""
    assert response.status_code == 200, response.content.decode()[:2000]
    return [row["invoice_number"] for row in response.context["page"].rows]


def follow(client, url):
    response = client.get(url)
    return response, shown(response)


@pytest.fixture
def ledger(biller, other_biller):
    """Six payments of `biller` that differ in one thing each, and one of another biller."""
    PaymentFactory(
        biller=biller,
        invoice_number="A1",
        account_number="ACC-1",
        paid_at=at(1),
        amount=Decimal("10.00"),
        service_fee=Decimal("1.00"),
        payer_name="John Smith",
    )
    PaymentFactory(
        biller=biller,
        invoice_number="A2",
        account_number="ACC-2",
        paid_at=at(2),
        amount=Decimal("20.00"),
        service_fee=Decimal("0.00"),
        method=PaymentMethod.BANK,
        payment_source="Web Eck",
        payer_name="Maria Lopez",
    )
    PaymentFactory(
        biller=biller,
        invoice_number="A3",
        account_number="ACC-1",
        paid_at=at(3),
        amount=Decimal("30.00"),
        status=PaymentStatus.POSTED,
        receipt_number="R-3",
        payer_name="johnny cash",
    )
    PaymentFactory(
        biller=biller,
        invoice_number="A4",
        account_number="ACC-4",
        paid_at=at(4),
        amount=Decimal("40.00"),
        status=PaymentStatus.REVIEW,
        payment_source="IVR CC",
        payer_name="Ann Lee",
    )
    PaymentFactory(
        biller=biller,
        invoice_number="A5",
        account_number="ACC-5",
        paid_at=at(5),
        amount=Decimal("5.00"),
        payer_name="Bob Stone",
    )
    PaymentFactory(
        biller=biller,
        invoice_number="ACC-9",
        account_number="ACC-6",
        paid_at=at(6),
        amount=Decimal("60.00"),
        payer_name="Carla Diaz",
    )
    PaymentFactory(biller=other_biller, invoice_number="B1", paid_at=at(3), payer_name="John Doe")


def test_the_history_lists_the_billers_payments_newest_first(portal, biller, ledger):
    response = history(portal, biller)
    assert shown(response) == ["ACC-9", "A5", "A4", "A3", "A2", "A1"]
    page = response.content.decode()
    assert "<td>B1</td>" not in page and "John Doe" not in page
    assert "Maria Lopez" in page and "Web Eck" in page and "R-3" in page
    first = response.context["page"].rows[0]
    assert (
        reverse("portal:payment", kwargs={"bid": biller.bid, "payment_guid": first["payment_guid"]})
        in page
    )
    assert "Next page" not in page and "Previous page" not in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"from": "2026-11-02", "to": "2026-11-04"}, ["A4", "A3", "A2"]),
        ({"from": "2026-11-05"}, ["ACC-9", "A5"]),
        ({"to": "2026-11-01"}, ["A1"]),
        ({"status": "review"}, ["A4"]),
        ({"status": "posted"}, ["A3"]),
        ({"method": "bank"}, ["A2"]),
        ({"method": "card"}, ["ACC-9", "A5", "A4", "A3", "A1"]),
        ({"source": "IVR CC"}, ["A4"]),
        ({"source": "IVR"}, []),
        ({"number": "ACC-1"}, ["A3", "A1"]),  # the account number of two
        ({"number": "A2"}, ["A2"]),  # an invoice number
        ({"number": "ACC-9"}, ["ACC-9"]),  # an invoice number that looks like an account
        ({"number": "A"}, []),  # exact, not a prefix
        ({"payer": "john"}, ["A3", "A1"]),  # case-insensitive prefix: John Smith, johnny cash
        ({"payer": "JOHN S"}, ["A1"]),
        ({"payer": "smith"}, []),  # a prefix, not "contains"
        ({"payer": "j%"}, []),  # no wildcards
        ({"payer": "_ohn"}, []),
        ({"payer": "john", "status": "posted"}, ["A3"]),
        ({"payer": "B1"}, []),
        ({"number": "B1"}, []),  # another biller's invoice: nothing of it shows
    ],
)
def test_each_filter_narrows_the_rows_and_the_totals(portal, biller, ledger, params, expected):
    assert shown(history(portal, biller, **params)) == expected

    response = totals(portal, biller, **params)
    assert response.status_code == 200
    figures = response.context["totals"]
    assert figures.count == len(expected)
    amounts = {"A1": 10, "A2": 20, "A3": 30, "A4": 40, "A5": 5, "ACC-9": 60}
    assert figures.amount == sum(Decimal(amounts[n]) for n in expected)
    fees = {"A1": Decimal("1.00"), "A2": Decimal("0.00")}
    assert figures.fees == sum((fees.get(n, Decimal("1.95")) for n in expected), Decimal("0"))


def in_zone(biller, time_zone: str) -> None:
    biller.time_zone = time_zone
    biller.save(update_fields=["time_zone"])


def test_dates_are_whole_days_in_the_billers_time_zone(portal, biller, settings):
    in_zone(biller, "America/Phoenix")  # UTC-7 all year
    settings.TIME_ZONE = "Asia/Tokyo"  # the server's zone plays no part
    phoenix = datetime.timezone(datetime.timedelta(hours=-7))
    PaymentFactory(biller=biller, invoice_number="EARLY", paid_at=at(10, 0, 0, phoenix))
    PaymentFactory(biller=biller, invoice_number="LATE", paid_at=at(10, 23, 59, phoenix))
    PaymentFactory(biller=biller, invoice_number="NEXT", paid_at=at(11, 0, 0, phoenix))
    PaymentFactory(biller=biller, invoice_number="BEFORE", paid_at=at(9, 23, 59, phoenix))

    assert shown(history(portal, biller, **{"from": "2026-11-10", "to": "2026-11-10"})) == [
        "LATE",
        "EARLY",
    ]


def test_totals_show_count_amount_and_fees_by_status(portal, biller, ledger):
    response = totals(portal, biller)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-total="count">6<' in page
    assert 'data-total="amount">165.00<' in page
    assert 'data-total="fees">8.80<' in page  # 1.00 + 0.00 + 4 x 1.95
    by_status = {g["status"]: g["count"] for g in response.context["totals"].by_status}
    assert by_status == {"pending": 4, "posted": 1, "review": 1}
    assert "Back to the payments" in page  # the no-JS page

    fragment = totals(portal, biller, status="review", partial="1")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'data-total="amount">40.00<' in fragment.content.decode()


def test_the_page_links_its_totals_with_the_same_filters(portal, biller, ledger):
    page = history(portal, biller, status="review", payer="ann").content.decode()
    url = reverse("portal:payment_totals", kwargs={"bid": biller.bid})
    assert f'href="{url}?status=review&amp;payer=ann"' in page
    assert f'data-partial="{url}?status=review&amp;payer=ann&amp;partial=1"' in page


def test_large_totals_are_grouped_by_thousands(portal, biller):
    for _ in range(3):
        PaymentFactory(biller=biller, amount=Decimal("999999.99"), service_fee=Decimal("0.01"))
    page = totals(portal, biller).content.decode()
    assert 'data-total="amount">2,999,999.97<' in page


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", ["A5", "A1", "A2", "A3", "A4", "ACC-9"]),
        ("-amount", ["ACC-9", "A4", "A3", "A2", "A1", "A5"]),
        ("paid_at", ["A1", "A2", "A3", "A4", "A5", "ACC-9"]),
        ("-paid_at", ["ACC-9", "A5", "A4", "A3", "A2", "A1"]),
    ],
)
def test_sorting(portal, biller, ledger, sort, expected):
    assert shown(history(portal, biller, sort=sort)) == expected


def test_the_column_headers_sort_and_keep_the_filters(portal, biller, ledger):
    response = history(portal, biller, method="card")
    amount_url = response.context["sort_amount_url"]
    assert parse_qs(urlsplit(amount_url).query) == {"method": ["card"], "sort": ["-amount"]}
    again = portal.get(amount_url)
    assert shown(again) == ["ACC-9", "A4", "A3", "A1", "A5"]
    ascending = portal.get(again.context["sort_amount_url"])
    assert shown(ascending) == ["A5", "A1", "A3", "A4", "ACC-9"]


@pytest.fixture
def crowd(biller):
    """23 payments: 12 paid in the same second, amounts with many ties."""
    same = at(20, 9, 30).replace(microsecond=123456)
    for n in range(23):
        PaymentFactory(
            biller=biller,
            invoice_number=f"C{n:02d}",
            paid_at=same if n % 2 == 0 else at(1 + n % 7, n % 24),
            amount=Decimal(10 + n % 3),
        )


@pytest.mark.parametrize("sort", ["-paid_at", "paid_at", "-amount", "amount"])
def test_pages_forward_and_back_show_every_payment_once(portal, biller, crowd, monkeypatch, sort):
    monkeypatch.setattr("portal.selectors.history.PAGE_SIZE", 5)
    response = history(portal, biller, sort=sort)
    pages = [shown(response)]
    while response.context["next_url"]:
        assert "cursor=" in response.context["next_url"]
        response, rows = follow(portal, response.context["next_url"])
        pages.append(rows)

    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    seen = [n for p in pages for n in p]
    assert sorted(seen) == [f"C{n:02d}" for n in range(23)]  # each once, none missing
    order = [sort, "-id" if sort.startswith("-") else "id"]
    assert seen == list(
        Payment.objects.filter(biller=biller)
        .order_by(*order)
        .values_list("invoice_number", flat=True)
    )

    back = [pages[-1]]
    while response.context["prev_url"]:
        response, rows = follow(portal, response.context["prev_url"])
        back.append(rows)
    assert back[::-1] == pages
    assert response.context["next_url"]  # the first page again, reached backwards


def test_a_page_asks_the_database_for_no_count(portal, biller, crowd, monkeypatch):
    monkeypatch.setattr("portal.selectors.history.PAGE_SIZE", 5)
    first = history(portal, biller)
    with CaptureQueriesContext(connection) as queries:
        assert len(shown(portal.get(first.context["next_url"]))) == 5
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "COUNT(" not in sql and "OFFSET" not in sql
    assert len(queries.captured_queries) <= 5  # session, user, biller, the page


def test_a_changed_or_made_up_cursor_is_refused_with_a_message(portal, biller, crowd, monkeypatch):
    monkeypatch.setattr("portal.selectors.history.PAGE_SIZE", 5)
    cursor = parse_qs(urlsplit(history(portal, biller).context["next_url"]).query)["cursor"][0]
    payload, signature = cursor.rsplit(":", 1)
    tampered = [
        "garbage",
        cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),
        ("A" if payload[0] != "A" else "B") + payload[1:] + ":" + signature,
        cursor + "x",
        "%00",
    ]
    for bad in tampered:
        response = history(portal, biller, cursor=bad)
        assert response.status_code == 400, bad
        assert "This page link is not valid" in response.content.decode()
        assert 'id="payment-rows"' not in response.content.decode()  # no rows shown


def test_a_cursor_is_bound_to_its_sort_and_biller(portal, biller, other_biller, crowd, monkeypatch):
    monkeypatch.setattr("portal.selectors.history.PAGE_SIZE", 5)
    next_url = history(portal, biller).context["next_url"]
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    assert history(portal, biller, cursor=cursor).status_code == 200
    assert history(portal, biller, cursor=cursor, sort="-amount").status_code == 400

    # a member of both billers cannot walk one biller's history with the other's cursor
    PortalUserFactory(username="both", billers=[biller, other_biller])
    portal.force_login(PortalUserFactory._meta.model.objects.get(username="both"))
    for n in range(7):
        PaymentFactory(biller=other_biller, invoice_number=f"O{n}")
    response = history(portal, other_biller, cursor=cursor)
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01"}, "“Paid from” must be a date"),
        ({"to": "yesterday"}, "“Paid to” must be a date"),
        ({"from": "2026-11-05", "to": "2026-11-04"}, "“Paid from” is after “Paid to”"),
        ({"from": "0001-01-01"}, "“Paid from” is out of range"),
        ({"to": "9999-12-31"}, "“Paid to” is out of range"),
        ({"status": "lost"}, "Unknown status “lost”"),
        ({"method": "cash"}, "Unknown payment method “cash”"),
        ({"sort": "payer_name"}, "Unknown sort “payer_name”"),
        ({"source": "x" * 33}, "at most 32 characters"),
        ({"payer": "a\x00b"}, "Null characters are not allowed"),
    ],
)
def test_invalid_filters_are_a_400_that_says_what_is_wrong(
    portal, biller, ledger, params, message, settings
):
    # ahead of UTC: the earliest day's start is before it
    in_zone(biller, "Australia/Sydney")
    for name in ("portal:payments", "portal:payment_totals", "portal:export"):
        response = portal.get(reverse(name, kwargs={"bid": biller.bid}), params)
        assert response.status_code == 400, name
        assert not getattr(response, "streaming", False)
        assert message in response.content.decode(), (name, response.content.decode()[:3000])
        assert "Maria Lopez" not in response.content.decode()


def test_another_billers_history_totals_and_export_are_not_found(
    portal, biller, other_biller, crowd, monkeypatch
):
    monkeypatch.setattr("portal.selectors.history.PAGE_SIZE", 5)
    own = history(portal, biller).context["next_url"]
    cursor = parse_qs(urlsplit(own).query)["cursor"][0]
    for name in ("portal:payments", "portal:payment_totals", "portal:export"):
        url = reverse(name, kwargs={"bid": other_biller.bid})
        assert portal.get(url).status_code == 404, name
        assert portal.get(url, {"cursor": cursor, "status": "posted"}).status_code == 404, name
        assert portal.get(url, {"from": "not a date"}).status_code == 404, name


def test_logged_out_visitors_are_sent_to_log_in(client, biller):
    for name in ("portal:payments", "portal:payment_totals", "portal:export"):
        response = client.get(reverse(name, kwargs={"bid": biller.bid}))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login"))


def test_a_biller_without_payments(portal, biller):
    response = history(portal, biller)
    assert response.status_code == 200
    assert "No payments yet" in response.content.decode()
    assert shown(response) == []
    figures = totals(portal, biller).context["totals"]
    assert (figures.count, figures.amount, figures.fees) == (0, Decimal("0.00"), Decimal("0.00"))
    assert (
        "No payments match these filters"
        in history(portal, biller, status="posted").content.decode()
    )


def test_a_reversed_payment_says_so(portal, biller):
    payment = PaymentFactory(biller=biller, status=PaymentStatus.POSTED, receipt_number="R-1")
    ReversalFactory(payment=payment)
    page = history(portal, biller).content.decode()
    assert "Void: to apply in your system" in page


def test_every_status_can_be_chosen_in_the_filter():
    from portal.forms import STATUS_CHOICES

    assert [value for value, _ in STATUS_CHOICES] == list(PaymentStatus.values)


def test_a_payment_at_0558z_is_on_peorias_day_before_in_the_filter_and_the_rows(portal, biller):
    in_zone(biller, "America/Phoenix")
    PaymentFactory(biller=biller, invoice_number="LATE", paid_at=at(24, 5, 58))  # 22:58 on the 23rd
    PaymentFactory(biller=biller, invoice_number="MIDNIGHT", paid_at=at(24, 7, 0))

    on_23rd = history(portal, biller, **{"from": "2026-11-23", "to": "2026-11-23"})
    on_24th = history(portal, biller, **{"from": "2026-11-24", "to": "2026-11-24"})

    assert shown(on_23rd) == ["LATE"] and shown(on_24th) == ["MIDNIGHT"]
    assert on_23rd.context["page"].rows[0]["paid"] == "2026-11-23 22:58"
    assert on_24th.context["page"].rows[0]["paid"] == "2026-11-24 00:00"
