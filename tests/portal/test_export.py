"""The payment history's CSV export."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from payments.models import PaymentMethod, PaymentStatus
from tests.payments.factories import PaymentFactory, ReversalFactory


def export(client, biller, **params):
    return client.get(reverse("portal:export", kwargs={"bid": biller.bid}), params)


def read(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, 5, 9, tzinfo=datetime.UTC)


def test_the_export_is_a_streamed_csv_download_with_a_header(portal, biller):
    payment = PaymentFactory(
        biller=biller,
        invoice_number="INV-7",
        account_number="ACC-7",
        payer_name="José Núñez",
        amount=Decimal("1234.50"),
        service_fee=Decimal("2.95"),
        payment_source="Web CC",
        status=PaymentStatus.POSTED,
        receipt_number="R-77",
        approval_code="AP1",
        paid_at=at(20),
    )
    response = export(portal, biller)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="payments-{biller.bid}-'
    )
    rows = read(response)
    assert rows == [
        [
            "paid at (UTC)",
            "payment GUID",
            "invoice number",
            "account number",
            "payer name",
            "amount",
            "fee",
            "method",
            "source",
            "status",
            "receipt number",
            "approval code",
            "reversal",
        ],
        [
            "2026-11-20 12:05:09",
            str(payment.payment_guid),
            "INV-7",
            "ACC-7",
            "José Núñez",
            "1234.50",
            "2.95",
            "card",
            "Web CC",
            "posted",
            "R-77",
            "AP1",
            "",
        ],
    ]


def test_the_export_has_the_filtered_rows_in_the_pages_order(portal, biller, other_biller):
    for n, (amount, method) in enumerate(
        [("30.00", "card"), ("10.00", "bank"), ("20.00", "card"), ("10.00", "card")]
    ):
        PaymentFactory(
            biller=biller,
            invoice_number=f"E{n}",
            amount=Decimal(amount),
            method=method,
            paid_at=at(1 + n),
        )
    PaymentFactory(biller=other_biller, invoice_number="OTHER", method=PaymentMethod.CARD)

    newest = read(export(portal, biller, method="card"))
    assert [r[2] for r in newest[1:]] == ["E3", "E2", "E0"]
    by_amount = read(export(portal, biller, sort="amount"))
    assert [r[2] for r in by_amount[1:]] == ["E1", "E3", "E2", "E0"]  # ties by id
    in_range = read(export(portal, biller, **{"from": "2026-11-02", "to": "2026-11-03"}))
    assert [r[2] for r in in_range[1:]] == ["E2", "E1"]


@pytest.mark.parametrize("sort", ["-paid_at", "paid_at", "-amount", "amount"])
def test_the_export_reads_in_batches_without_losing_or_repeating_rows(
    portal, biller, monkeypatch, sort
):
    monkeypatch.setattr("portal.selectors.history.CSV_BATCH_SIZE", 4)
    for n in range(17):  # ties in both sort columns across batch boundaries
        PaymentFactory(
            biller=biller,
            invoice_number=f"B{n:02d}",
            paid_at=at(5) if n % 3 else at(1 + n % 5),
            amount=Decimal(5 + n % 2),
        )
    rows = read(export(portal, biller, sort=sort))
    numbers = [r[2] for r in rows[1:]]
    assert sorted(numbers) == [f"B{n:02d}" for n in range(17)]
    page = portal.get(
        reverse("portal:payments", kwargs={"bid": biller.bid}), {"sort": sort}
    ).context["page"]
    assert numbers[: len(page.rows)] == [r["invoice_number"] for r in page.rows]


@pytest.mark.parametrize(
    "payer",
    ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tcmd", "\r=1"],
)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(portal, biller, payer):
    PaymentFactory(biller=biller, payer_name=payer, invoice_number="=1+1", approval_code="-2")
    row = read(export(portal, biller))[1]
    assert row[4] == "'" + payer
    assert row[2] == "'=1+1"
    assert row[11] == "'-2"


def test_ordinary_cells_are_left_alone(portal, biller):
    PaymentFactory(biller=biller, payer_name="Ann = Lee", invoice_number="1-2")
    row = read(export(portal, biller))[1]
    assert row[4] == "Ann = Lee"
    assert row[2] == "1-2"


def test_the_export_says_which_payments_were_reversed(portal, biller):
    payment = PaymentFactory(biller=biller, status=PaymentStatus.POSTED)
    ReversalFactory(payment=payment)
    assert read(export(portal, biller))[1][12] == "void (to_apply)"


def test_times_are_in_the_billers_time_zone(portal, biller, settings):
    biller.time_zone = "America/Phoenix"
    biller.save(update_fields=["time_zone"])
    settings.TIME_ZONE = "Asia/Tokyo"  # the server's zone plays no part
    PaymentFactory(biller=biller, paid_at=at(20, 3))
    rows = read(export(portal, biller))
    assert rows[0][0] == "paid at (America/Phoenix)"
    assert rows[1][0] == "2026-11-19 20:05:09"


def test_the_export_of_a_biller_without_payments_is_the_header(portal, biller):
    rows = read(export(portal, biller))
    assert len(rows) == 1
    assert rows[0][1] == "payment GUID"


def test_the_exports_day_filter_is_the_billers_day(portal, biller):
    biller.time_zone = "America/Phoenix"
    biller.save(update_fields=["time_zone"])
    late = PaymentFactory(
        biller=biller, paid_at=datetime.datetime(2026, 11, 24, 5, 58, tzinfo=datetime.UTC)
    )
    PaymentFactory(
        biller=biller, paid_at=datetime.datetime(2026, 11, 24, 7, 0, tzinfo=datetime.UTC)
    )

    rows = read(export(portal, biller, **{"from": "2026-11-23", "to": "2026-11-23"}))

    assert [row[:2] for row in rows[1:]] == [["2026-11-23 22:58:00", str(late.payment_guid)]]
