"""A biller's clerk filters the payment history and exports it, in a real browser."""

import csv
import datetime
import io
from decimal import Decimal

from playwright.sync_api import expect

from payments.models import PaymentMethod, PaymentStatus
from tests.billers.factories import BillerFactory, PortalUserFactory
from tests.payments.factories import PaymentFactory


def test_a_clerk_filters_the_history_pages_through_it_and_exports_it(
    page, log_in, shot, monkeypatch
):
    monkeypatch.setattr("portal.selectors.history.PAGE_SIZE", 4)
    town = BillerFactory(name="City of Example")
    elsewhere = BillerFactory(name="Example Water")
    PortalUserFactory(username="clerk", billers=[town])
    day = datetime.datetime(2026, 11, 2, 15, 30, tzinfo=datetime.UTC)
    for n in range(6):  # posted card payments, 2-7 November
        PaymentFactory(
            biller=town,
            invoice_number=f"INV-{n}",
            paid_at=day + datetime.timedelta(days=n),
            amount=Decimal(f"{10 * (n + 1)}.00"),
            status=PaymentStatus.POSTED,
            receipt_number=f"R-{n}",
            payer_name="Maria Lopez" if n else '=HYPERLINK("http://x")',
        )
    PaymentFactory(biller=town, invoice_number="BANK-1", paid_at=day, method=PaymentMethod.BANK)
    PaymentFactory(biller=town, invoice_number="REVIEW-1", paid_at=day, status="review")
    PaymentFactory(biller=town, invoice_number="OLD-1", paid_at=day - datetime.timedelta(days=40))
    PaymentFactory(biller=elsewhere, invoice_number="NOT-OURS", paid_at=day)

    log_in("clerk")
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    rows = page.locator("#payment-rows tbody tr")
    expect(rows).to_have_count(4)
    totals = page.locator("#totals")
    expect(totals.locator('[data-total="count"]')).to_have_text("9")  # loaded after the page
    expect(page.get_by_text("NOT-OURS")).to_have_count(0)
    shot(page, "portal-payments")

    page.get_by_label("Paid from").fill("2026-11-01")
    page.get_by_label("Paid to (inclusive)").fill("2026-11-30")
    page.get_by_label("Status").select_option("posted")
    page.get_by_label("Method").select_option("card")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("INV-5")
    expect(totals.locator('[data-total="count"]')).to_have_text("6")
    expect(totals.locator('[data-total="amount"]')).to_have_text("210.00")
    shot(page, "portal-payments-filtered")

    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(2)
    expect(rows.last).to_contain_text("INV-0")
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    shot(page, "portal-payments-page-2")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename.startswith(f"payments-{town.bid}-")
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()
    exported = list(csv.reader(io.StringIO(text)))
    assert exported[0][:3] == ["paid at (UTC)", "payment GUID", "invoice number"]
    assert [row[2] for row in exported[1:]] == [f"INV-{n}" for n in range(5, -1, -1)]
    assert exported[-1][4] == '\'=HYPERLINK("http://x")'  # not a formula in a spreadsheet
    assert {row[9] for row in exported[1:]} == {"posted"}
