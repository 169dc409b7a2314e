"""The payment API: shape, idempotency on the payment GUID, and the biller's policy."""

import uuid

import pytest
from django.utils import timezone

from billers.models import BifCustomization
from billers.services.api_clients import api_client_create
from payments.models import Delivery, Payment, PaymentMethod
from tests.support.payments import hub_invoice, pay, payment_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(peoria, citizenserve_sandbox):
    return hub_invoice(peoria, citizenserve_sandbox, "PBL26-800001", balance="100.00")


@pytest.fixture
def imt_invoice(imt, imt_sandbox):
    return hub_invoice(imt, imt_sandbox, "IMT8000001", balance="50.00")


def error(response):
    body = response.json()
    return response.status_code, body["code"]


# --- accepted --------------------------------------------------------------------------


def test_a_payment_is_accepted_with_its_delivery_and_answered_202(api, invoice):
    response = pay(api, invoice, amount="40.00", payment_source="IVR Eck")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["method"] == "bank"
    assert body["amount"] == "40.00"
    payment = Payment.objects.get(payment_guid=body["payment_guid"])
    assert payment.invoice == invoice
    assert str(payment.service_fee) == "1.95"
    assert Delivery.objects.filter(payment=payment, status="pending").count() == 1


@pytest.mark.parametrize(
    "source,method",
    [("Web CC", "card"), ("IVR CC", "card"), ("AutopayCC", "card"),
     ("Web Eck", "bank"), ("IVR Eck", "bank"), ("AutopayEck", "bank")],
)  # fmt: skip
def test_the_source_is_classified_card_or_bank_by_settings_64_and_65(api, invoice, source, method):
    response = pay(api, invoice, payment_source=source)
    assert response.json()["method"] == method
    assert Payment.objects.get().method == getattr(PaymentMethod, method.upper())


def test_the_task_is_enqueued_only_when_the_transaction_commits(
    api, invoice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        pay(api, invoice)
    assert len(callbacks) == 1
    assert Delivery.objects.get().enqueued_at is None  # not yet: nothing committed


# --- idempotency ------------------------------------------------------------------------


def test_the_same_request_again_returns_the_same_payment(api, invoice):
    body = payment_body(invoice)
    first = api.post("/api/v1/billers/2249/payments", body, format="json")
    again = api.post("/api/v1/billers/2249/payments", body, format="json")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_the_same_request_with_an_equivalent_time_or_amount_is_the_same(api, invoice):
    body = payment_body(invoice, amount="40.5", paid_at="2026-11-20T17:15:00Z")
    api.post("/api/v1/billers/2249/payments", body, format="json")
    same = {**body, "amount": "40.50", "paid_at": "2026-11-20T10:15:00-07:00"}
    assert api.post("/api/v1/billers/2249/payments", same, format="json").status_code == 202
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    "change", [{"amount": "41.00"}, {"payer_name": "Someone Else"}, {"payment_source": "Web Eck"}]
)
def test_another_request_under_a_used_guid_is_a_409(api, invoice, change):
    body = payment_body(invoice, amount="40.00")
    api.post("/api/v1/billers/2249/payments", body, format="json")
    response = api.post("/api/v1/billers/2249/payments", {**body, **change}, format="json")

    assert error(response) == (409, "payment_guid_conflict")
    assert Payment.objects.get().amount == 40


def test_a_guid_used_at_another_biller_is_a_409(api, invoice, imt_invoice):
    guid = str(uuid.uuid4())
    pay(api, invoice, payment_guid=guid)
    response = pay(api, imt_invoice, payment_guid=guid)
    assert error(response) == (409, "payment_guid_conflict")


# --- the biller's policy: 422 with the rule's code, nothing written ------------------------


@pytest.mark.parametrize("amount", ["0.00", "-5.00", "0"])
def test_an_amount_not_above_zero_is_refused(api, invoice, amount):
    assert error(pay(api, invoice, amount=amount)) == (422, "amount_not_positive")
    assert not Payment.objects.exists()


def test_imt_takes_payment_in_full_only(api, imt_invoice):
    response = pay(api, imt_invoice, amount="49.99")
    assert error(response) == (422, "partial_payment_not_allowed")
    assert response.json()["extra"] == {"balance_due": "50.00"}
    assert pay(api, imt_invoice, amount="50.00").status_code == 202


def test_peoria_takes_a_partial_payment(api, invoice):
    assert pay(api, invoice, amount="0.01").status_code == 202


def test_the_minimum_amount_due_is_enforced(api, peoria, invoice):
    BifCustomization.objects.create(biller=peoria, name="MinimumAmountDue", value="25.00")
    response = pay(api, invoice, amount="24.99")
    assert error(response) == (422, "below_minimum_amount_due")
    assert response.json()["extra"] == {"minimum_amount_due": "25.00"}
    assert pay(api, invoice, amount="25.00").status_code == 202


def test_a_balance_below_the_minimum_may_be_paid_in_full(api, peoria, citizenserve_sandbox):
    BifCustomization.objects.create(biller=peoria, name="MinimumAmountDue", value="25.00")
    small = hub_invoice(peoria, citizenserve_sandbox, "PBL26-800002", balance="10.00")
    assert pay(api, small, amount="10.00").status_code == 202
    assert error(pay(api, small, amount="9.00")) == (422, "below_minimum_amount_due")


def test_a_source_the_biller_does_not_take_is_refused(api, peoria, invoice):
    from billers.services.settings import biller_setting_set

    biller_setting_set(biller=peoria, setting_id=65, value="Web Eck")
    assert error(pay(api, invoice, payment_source="IVR Eck")) == (
        422, "payment_source_not_accepted"
    )  # fmt: skip


def test_an_unknown_invoice_is_refused(api, invoice):
    assert error(pay(api, invoice, invoice_number="PBL26-NOPE")) == (422, "invoice_not_found")


def test_an_account_that_is_not_the_invoices_is_refused(api, invoice):
    assert error(pay(api, invoice, account_number="SOMEONE-ELSE")) == (422, "account_mismatch")


def test_a_payment_stamped_in_the_future_is_refused(api, invoice):
    later = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    assert error(pay(api, invoice, paid_at=later)) == (422, "paid_at_in_future")


# --- bad input: 400 with the field, never a 500 ---------------------------------------------


@pytest.mark.parametrize(
    "change,field",
    [
        ({"amount": 25.5}, "amount"),  # a float, not a decimal string
        ({"amount": "25.555"}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"service_fee": "-1.00"}, "service_fee"),
        ({"payment_guid": "not-a-guid"}, "payment_guid"),
        ({"payment_source": ""}, "payment_source"),
        ({"paid_at": "2026-11-20T10:15:00"}, "paid_at"),  # no UTC offset
        ({"paid_at": "yesterday"}, "paid_at"),
        ({"invoice_number": ""}, "invoice_number"),
        ({"invoice_number": "X" * 101}, "invoice_number"),
        ({"payer_name": "Bad\x00Name"}, "payer_name"),
    ],
)
def test_malformed_fields_are_a_400_naming_the_field(api, invoice, change, field):
    response = pay(api, invoice, **change)
    assert error(response) == (400, "invalid_request")
    assert field in response.json()["extra"]
    assert not Payment.objects.exists()


def test_a_missing_field_is_a_400(api, invoice):
    body = payment_body(invoice)
    del body["amount"]
    response = api.post("/api/v1/billers/2249/payments", body, format="json")
    assert error(response) == (400, "invalid_request")


def test_a_body_that_is_not_json_is_a_400(api, invoice):
    response = api.post(
        "/api/v1/billers/2249/payments", "{not json", content_type="application/json"
    )
    assert error(response) == (400, "malformed_request")


# --- who may see what ---------------------------------------------------------------------


def test_a_client_of_another_biller_gets_404_for_its_payments(api, invoice, imt):
    guid = pay(api, invoice).json()["payment_guid"]
    from rest_framework.test import APIClient

    _, token = api_client_create(name="imt-only", bids=[1367])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert error(other.get(f"/api/v1/billers/2249/payments/{guid}")) == (404, "biller_not_found")
    assert error(other.get(f"/api/v1/billers/1367/payments/{guid}")) == (404, "payment_not_found")
    body = payment_body(invoice)
    response = other.post("/api/v1/billers/2249/payments", body, format="json")
    assert error(response) == (404, "biller_not_found")


def test_no_token_is_a_401(invoice):
    from rest_framework.test import APIClient

    response = APIClient().post(
        "/api/v1/billers/2249/payments", payment_body(invoice), format="json"
    )
    assert response.status_code == 401


def test_an_unknown_or_malformed_guid_is_a_404(api, invoice):
    assert error(api.get(f"/api/v1/billers/2249/payments/{uuid.uuid4()}")) == (
        404, "payment_not_found"
    )  # fmt: skip
    assert error(api.get("/api/v1/billers/2249/payments/nope")) == (404, "payment_not_found")
