"""A payment's page, ticking its reversal off, and the activity chart, in a real browser."""

import datetime
import random
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from payments.models import (
    AttemptKind,
    AttemptOutcome,
    DeliveryStatus,
    Payment,
    PaymentStatus,
    Reversal,
    ReversalStatus,
)
from tests.billers.factories import BillerFactory, PortalUserFactory
from tests.payments.factories import (
    DeliveryAttemptFactory,
    DeliveryFactory,
    PaymentFactory,
    ReversalFactory,
)


def _clerk_of(biller):
    """A clerk of `biller` and of a second one, so that logging in lands on the
    list of billers (with one biller it goes to the payment list)."""
    PortalUserFactory(username="clerk", billers=[biller, BillerFactory(name="Example Water")])


def _a_payment_that_took_three_calls(biller) -> Payment:
    """Read, posted without an answer, read back: posted; then voided."""
    start = timezone.now() - datetime.timedelta(hours=3)
    payment = PaymentFactory(
        biller=biller, status=PaymentStatus.POSTED, receipt_number="RCPT-55120",
        invoice_number="LIC-2291", account_number="C-0406", payer_name="Jose L Salazar",
        amount=Decimal("125.40"), paid_at=start,
    )  # fmt: skip
    delivery = DeliveryFactory(
        payment=payment, status=DeliveryStatus.POSTED, attempts=1, reads=1,
        finished_at=start + datetime.timedelta(minutes=1),
    )  # fmt: skip
    calls = [
        (AttemptKind.SNAPSHOT, AttemptOutcome.SUCCESS, 200, "", ""),
        (AttemptKind.POST, AttemptOutcome.UNKNOWN, 504, "The partner did not answer in time.", ""),
        (AttemptKind.READ_BACK, AttemptOutcome.SUCCESS, 200, "", ""),
    ]
    for n, (kind, outcome, code, message, receipt) in enumerate(calls):
        DeliveryAttemptFactory(
            delivery=delivery, kind=kind, outcome=outcome, status_code=code, message=message,
            receipt_number=receipt, started_at=start + datetime.timedelta(seconds=20 * n),
            duration_ms=[38.0, 30012.0, 44.0][n],
        )  # fmt: skip
    ReversalFactory(payment=payment, reason="Payer paid twice; refunded by the provider.")
    return payment


def test_a_payment_shows_its_timeline_and_its_void_is_ticked_off(page, log_in, shot):
    biller = BillerFactory(name="City of Example")
    _clerk_of(biller)
    payment = _a_payment_that_took_three_calls(biller)
    log_in("clerk")

    page.goto(f"/portal/{biller.bid}/payments/{payment.payment_guid}/")

    heading = page.get_by_role("heading", name="Payment of $125.40 for invoice LIC-2291")
    expect(heading).to_be_visible()
    expect(page.locator("[data-receipt]")).to_have_text("RCPT-55120")
    timeline = page.locator("ol.timeline li")
    expect(timeline).to_have_count(3)
    expect(timeline.nth(0)).to_contain_text("Read the invoice at IMT before sending")
    expect(timeline.nth(1)).to_contain_text("Sent the payment to IMT")
    expect(timeline.nth(1)).to_contain_text("No clear answer")
    expect(timeline.nth(1)).to_contain_text("HTTP 504 · 30.0 s")
    expect(timeline.nth(2)).to_contain_text("Read the invoice back at IMT")
    expect(page.get_by_text("confirmed the payment arrived")).to_be_visible()
    expect(page.get_by_text("To apply in your system:")).to_be_visible()
    shot(page, "portal-payment")

    page.get_by_label("Note (optional)").fill("Voided in our CIS, batch 4411")
    page.get_by_role("button", name="Mark applied").click()

    expect(page.get_by_text("marked applied.")).to_be_visible()
    expect(page.get_by_text("Applied by the biller")).to_be_visible()
    expect(page.get_by_role("button", name="Mark applied")).to_have_count(0)
    reversal = Reversal.objects.get(payment=payment)
    assert reversal.status == ReversalStatus.APPLIED
    assert reversal.applied_by.username == "clerk"
    shot(page, "portal-payment-applied")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/portal/{biller.bid}/to-apply/")
    expect(page.get_by_text("Nothing to apply")).to_be_visible()
    expect(page.get_by_role("cell", name="clerk", exact=True)).to_be_visible()
    shot(page, "portal-to-apply-phone")


def test_the_activity_page_draws_a_month_of_payments(page, log_in, shot):
    biller = BillerFactory(name="City of Example")
    _clerk_of(biller)
    rng = random.Random(6)
    now = timezone.now()
    statuses = [PaymentStatus.POSTED] * 12 + [
        PaymentStatus.PENDING, PaymentStatus.REVIEW, PaymentStatus.REJECTED, PaymentStatus.FAILED,
    ]  # fmt: skip
    for back in range(30):
        for _ in range(rng.randint(0, 9)):
            payment = PaymentFactory(biller=biller, status=rng.choice(statuses))
            Payment.objects.filter(pk=payment.pk).update(
                created_at=now - datetime.timedelta(days=back)
            )
            if payment.status == PaymentStatus.POSTED and rng.random() < 0.1:
                ReversalFactory(payment=payment)
    log_in("clerk")

    page.goto(f"/portal/{biller.bid}/activity/")

    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    chart = page.get_by_role("img", name="Payments received per day, last 30 days")
    expect(chart).to_be_visible()
    expect(chart.locator("g.bar")).to_have_count(30)
    expect(page.locator("table tbody tr")).to_have_count(30)
    shot(page, "portal-activity")

    page.get_by_role("link", name="Last 7 days").click()
    expect(page.locator("svg g.bar")).to_have_count(7)
    shot(page, "portal-activity-7-days")
