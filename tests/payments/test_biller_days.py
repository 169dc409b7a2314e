"""A biller's days are days in its time zone: the date a payment is posted with,
the ACH return window, and paid_at_in_future, at the day's boundary. Peoria is
America/Phoenix (UTC-7 all year)."""

import datetime

import pytest

from payments.models import Payment, PaymentStatus, Reversal
from tests.support.clock import clock_at
from tests.support.payments import hub_invoice, pay, payment_of, pump

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def test_a_payment_at_0558z_is_posted_to_citizenserve_with_peorias_date(
    api, peoria, citizenserve_sandbox
):
    # Given a payment made at 2026-11-24T05:58Z: 22:58 on the 23rd in Peoria
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-910001", balance="30.00")
    response = pay(api, invoice, amount="30.00", paid_at="2026-11-24T05:58:00Z")
    assert response.status_code == 202

    # When the pump posts it
    pump()

    # Then CitizenServe gets Peoria's date, not UTC's
    payment = payment_of(response)
    assert payment.status == PaymentStatus.POSTED
    (applied,) = citizenserve_sandbox.ledger.payments_for(str(payment.payment_guid))
    assert applied["body"]["paymentDate"] == "11/23/2026"


def test_a_payment_at_peorias_midnight_is_posted_with_the_new_day(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-910002", balance="30.00")
    response = pay(api, invoice, amount="30.00", paid_at="2026-11-24T07:00:00Z")
    pump()
    (applied,) = citizenserve_sandbox.ledger.payments_for(response.json()["payment_guid"])
    assert applied["body"]["paymentDate"] == "11/24/2026"


@pytest.mark.parametrize(
    ("paid_at", "status"),
    [
        ("2026-11-24T05:58:00Z", 202),  # now: already the 24th in UTC, the 23rd in Peoria
        ("2026-11-23T22:58:00-07:00", 202),  # the same moment, written in Peoria's offset
        ("2026-11-24T06:02:00Z", 202),  # within the 5 minutes' clock skew
        ("2026-11-24T06:10:00Z", 422),  # 12 minutes ahead, though still Peoria's 23rd
    ],
)
def test_paid_at_in_the_future_is_a_moment_not_a_day(
    api, peoria, citizenserve_sandbox, monkeypatch, paid_at, status
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-910003", balance="30.00")
    clock_at(monkeypatch, datetime.datetime(2026, 11, 24, 5, 58, tzinfo=UTC))
    response = pay(api, invoice, amount="30.00", paid_at=paid_at)
    assert response.status_code == status
    if status == 422:
        assert response.json()["code"] == "paid_at_in_future"


@pytest.fixture
def bank_payment(api, peoria, citizenserve_sandbox):
    """A bank payment posted to CitizenServe, made at 2026-09-25T06:30Z: 23:30 on
    September 24th in Peoria, whose 60th day after is November 23rd."""
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-910004", balance="80.00")
    guid = pay(api, invoice, payment_source="Web Eck", amount="80.00").json()["payment_guid"]
    pump()
    Payment.objects.filter(payment_guid=guid).update(
        paid_at=datetime.datetime(2026, 9, 25, 6, 30, tzinfo=UTC)
    )
    return Payment.objects.get(payment_guid=guid)


def ach_return(api, payment):
    return api.post(
        f"/api/v1/billers/2249/payments/{payment.payment_guid}/ach-return",
        {"return_code": "R01"},
        format="json",
    )


def test_an_ach_return_on_the_last_minute_of_peorias_60th_day_is_taken(
    api, bank_payment, monkeypatch
):
    # 2026-11-24T06:59Z is 23:59 on November 23rd in Peoria, the window's last day.
    clock_at(monkeypatch, datetime.datetime(2026, 11, 24, 6, 59, tzinfo=UTC))
    assert ach_return(api, bank_payment).status_code == 202


def test_an_ach_return_on_peorias_61st_day_is_refused_naming_the_last_day(
    api, bank_payment, monkeypatch
):
    # 07:00Z is midnight in Peoria: November 24th there, the 61st day. Counted in
    # UTC days (paid on the 25th) it would still be inside the window.
    clock_at(monkeypatch, datetime.datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    response = ach_return(api, bank_payment)
    assert (response.status_code, response.json()["code"]) == (422, "ach_return_window_passed")
    assert response.json()["extra"] == {"last_day": "2026-11-23", "time_zone": "America/Phoenix"}
    assert not Reversal.objects.exists()
