"""The open balance (issue 12, items 1 and 2): what a lookup answers is the
partner's figure net of the payments the hub accepted that the figure cannot
include yet, and a payment above it (or above the biller's ceiling) is refused."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billers.models import Invoice
from icintegrations import memo
from payments.models import Delivery, DeliveryStatus, Payment, PaymentStatus
from payments.selectors import invoice_pending_payments
from tests.support.payments import hub_invoice, pay, payment_body, payment_of, pump

pytestmark = pytest.mark.django_db

PEORIA_SAMPLE = "PBL19-010007"  # 25.00 due in the CitizenServe sandbox


def lookup(api, number, bid=2249):
    response = api.get(f"/api/v1/billers/{bid}/invoices/{number}")
    assert response.status_code == 200, response.json()
    body = response.json()
    return body["balance_due"], body["pending_payments"]


def refused(response):
    assert response.status_code == 422, response.json()
    body = response.json()
    return body["code"], body.get("extra")


def policy(biller, **fields):
    for name, value in fields.items():
        setattr(biller, name, value)
    biller.save(update_fields=list(fields))
    memo.clear_all()  # the API's cached biller


def age(number, hours):
    Invoice.objects.filter(invoice_number=number).update(
        refreshed_at=timezone.now() - datetime.timedelta(hours=hours)
    )


@pytest.fixture
def invoice(peoria, citizenserve_sandbox):
    return hub_invoice(peoria, citizenserve_sandbox, "PBL26-700001", balance="100.00")


# --- the lookup's open balance ------------------------------------------------------------


def test_the_issue_sequence_an_invoice_is_paid_once_and_the_lookup_says_so(
    api, peoria, citizenserve_sandbox
):
    assert lookup(api, PEORIA_SAMPLE) == ("25.00", "0.00")
    first = pay(api, Invoice.objects.get(invoice_number=PEORIA_SAMPLE), amount="25.00")
    assert first.status_code == 202

    # served from the hub (fresh): the payment not yet posted is subtracted
    assert lookup(api, PEORIA_SAMPLE) == ("0.00", "25.00")
    second = pay(api, Invoice.objects.get(invoice_number=PEORIA_SAMPLE), amount="25.00")
    assert refused(second) == (
        "amount_exceeds_balance",
        {"balance_due": "0.00", "pending_payments": "25.00", "overpayment_allowance": "0.00"},
    )

    pump()
    assert payment_of(first).status == PaymentStatus.POSTED
    # posted after the figure was read: still subtracted, the figure cannot have it
    assert lookup(api, PEORIA_SAMPLE) == ("0.00", "25.00")
    # a refresh read after the post includes it: subtracted once, not twice
    age(PEORIA_SAMPLE, 7)
    assert lookup(api, PEORIA_SAMPLE) == ("0.00", "0.00")
    assert [p["amount"] for p in citizenserve_sandbox.ledger.payments] == ["25.00"]
    third = pay(api, Invoice.objects.get(invoice_number=PEORIA_SAMPLE), amount="25.00")
    assert refused(third)[0] == "amount_exceeds_balance"


def test_a_payment_voided_before_it_was_sent_is_no_longer_subtracted(api, invoice):
    response = pay(api, invoice, amount="60.00")
    assert lookup(api, invoice.invoice_number) == ("40.00", "60.00")

    void = api.post(
        f"/api/v1/billers/2249/payments/{response.json()['payment_guid']}/void", {}, format="json"
    )
    assert void.status_code == 202
    assert payment_of(response).status == PaymentStatus.REVERSED
    assert lookup(api, invoice.invoice_number) == ("100.00", "0.00")
    assert pay(api, invoice, amount="100.00").status_code == 202


def test_a_payment_the_partner_rejected_is_not_subtracted_one_in_review_is(api, invoice):
    rejected = payment_of(pay(api, invoice, amount="30.00"))
    in_review = payment_of(pay(api, invoice, amount="20.00"))
    Payment.objects.filter(pk=rejected.pk).update(status=PaymentStatus.REJECTED)
    Payment.objects.filter(pk=in_review.pk).update(status=PaymentStatus.REVIEW)

    assert lookup(api, invoice.invoice_number) == ("80.00", "20.00")


def test_a_posted_payment_counts_only_while_it_is_newer_than_the_figure(invoice, api):
    payment = payment_of(pay(api, invoice, amount="10.00"))
    now = timezone.now()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.POSTED)
    Delivery.objects.filter(payment=payment).update(status=DeliveryStatus.POSTED, finished_at=now)

    def pending(read_at):
        return invoice_pending_payments(invoice_id=invoice.pk, refreshed_at=read_at)

    assert pending(now - datetime.timedelta(seconds=1)) == Decimal("10.00")
    assert pending(now) == Decimal("0.00")  # read when the post had finished: included
    assert pending(None) == Decimal("10.00")  # a figure of unknown age includes nothing


def test_a_refresh_records_when_the_partner_was_read_not_when_it_answered(
    api, peoria, citizenserve_sandbox, settings
):
    """A post that finishes while a slow read is on its way is still subtracted:
    the figure's time is the read's start."""
    settings.ICI_PARTNER_READ_TIMEOUT = 5.0
    citizenserve_sandbox.set_faults(latency_ms=300)
    before = timezone.now()
    lookup(api, PEORIA_SAMPLE)
    invoice = Invoice.objects.get(invoice_number=PEORIA_SAMPLE)
    assert invoice.refreshed_at - before < datetime.timedelta(milliseconds=250)


# --- overpayment, the allowance, the ceiling -----------------------------------------------


def test_a_payment_above_the_open_balance_is_refused_with_the_balance(api, invoice):
    assert pay(api, invoice, amount="70.00").status_code == 202

    assert refused(pay(api, invoice, amount="30.01")) == (
        "amount_exceeds_balance",
        {"balance_due": "30.00", "pending_payments": "70.00", "overpayment_allowance": "0.00"},
    )
    assert pay(api, invoice, amount="30.00").status_code == 202
    assert Payment.objects.count() == 2


def test_the_allowance_lets_a_payment_exceed_the_balance_by_that_much(api, peoria, invoice):
    policy(peoria, overpayment_allowance=Decimal("5.00"))

    assert refused(pay(api, invoice, amount="105.01"))[0] == "amount_exceeds_balance"
    assert pay(api, invoice, amount="105.00").status_code == 202


def test_an_empty_allowance_means_no_limit_but_the_ceiling(api, peoria, invoice):
    policy(peoria, overpayment_allowance=None)

    assert pay(api, invoice, amount="5000.00").status_code == 202
    assert refused(pay(api, invoice, amount="9999999999.99")) == (
        "amount_above_maximum",
        {"maximum_payment": "100000.00"},
    )


def test_above_the_ceiling_wins_over_above_the_balance(api, peoria, invoice):
    policy(peoria, maximum_payment=Decimal("50.00"))

    assert refused(pay(api, invoice, amount="150.00"))[0] == "amount_above_maximum"
    assert refused(pay(api, invoice, amount="50.01")) == (
        "amount_above_maximum",
        {"maximum_payment": "50.00"},
    )
    assert pay(api, invoice, amount="50.00").status_code == 202


def test_the_issue_s_huge_payment_is_refused(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT7000001", balance="100.00")
    assert refused(pay(api, invoice, amount="9999999999.99"))[0] == "amount_above_maximum"
    assert refused(pay(api, invoice, amount="100.01"))[0] == "amount_exceeds_balance"
    assert Payment.objects.count() == 0


def test_paying_in_full_means_the_open_balance(api, imt, imt_sandbox):
    """IMT takes payment in full only: once a part is pending (accepted before the
    rule), in full is what is left, and the whole again is an overpayment."""
    invoice = hub_invoice(imt, imt_sandbox, "IMT7000002", balance="50.00")
    assert pay(api, invoice, amount="50.00").status_code == 202

    assert refused(pay(api, invoice, amount="50.00"))[0] == "amount_exceeds_balance"
    assert lookup(api, invoice.invoice_number, bid=1367) == ("0.00", "50.00")


def test_the_same_request_again_is_answered_with_its_payment_not_refused(api, invoice):
    body = payment_body(invoice, amount="100.00")
    first = api.post("/api/v1/billers/2249/payments", body, format="json")
    again = api.post("/api/v1/billers/2249/payments", body, format="json")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Payment.objects.count() == 1
