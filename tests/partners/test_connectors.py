"""The connectors' wire formats, against `responses` mocks: the exact requests of
both documents' samples, every status code they name, and how failures map to
the four outcomes. (The same calls over real HTTP: test_connectors_sandbox.py.)"""

import datetime
import json
import socket
from decimal import Decimal

import pytest
import requests
import responses

from partners.connectors.base import ConnectorConfig, PaymentMethod, PaymentRequest
from partners.connectors.citizenserve import CitizenServeConnector
from partners.connectors.errors import (
    Outcome,
    PartnerAuthError,
    PartnerBadResponse,
    PartnerNotFound,
    PartnerNotSent,
    PartnerRejected,
    PartnerTimeout,
    PartnerUnknown,
)
from partners.connectors.imt import ImtConnector
from tests.partners.fixtures import IMT_INVOICE_DETAIL_SAMPLE

API_KEY = "cs-test-api-key-1234567890"
INTEGRATOR_ID = "imt-test-integrator-42"
GETQUERY = (
    "https://test.citizenserve.com/Portal/PortalController?Action=getQuery"
    "&portalPageDisplay=true&report_ID=641&installationID=24&ctzPagePrefix=Portal_"
    "&ParamCount=1&Param_1="
)
ADD_PAYMENT = "https://test.citizenserve.com/citizenws/service/addlicensepayment"
IMT_BASE = "https://billingtest.imtapps.com"
SAMPLE_RECORD = {"licensenumber": "PBL19-010007", "totalamountdue": 70, "balancedue": 25}
IMT_DETAIL = IMT_INVOICE_DETAIL_SAMPLE


def citizenserve(settings=None):
    return CitizenServeConnector(
        ConnectorConfig(
            bid=2249,
            partner="CitizenServe",
            environment="test",
            settings={8: GETQUERY, 11: ADD_PAYMENT, 13: API_KEY, **(settings or {})},
            time_zone="UTC",
        )
    )


def imt(environment="test", settings=None):
    return ImtConnector(
        ConnectorConfig(
            bid=1367,
            partner="IMT",
            environment=environment,
            settings={8: IMT_BASE, 10: INTEGRATOR_ID, 13: INTEGRATOR_ID, **(settings or {})},
            time_zone="UTC",
        )
    )


def payment(method=PaymentMethod.CARD, amount="240.83"):
    return PaymentRequest(
        payment_guid="8d9a2c1e-5b8f-4a7e-9a51-4c0e2f6b7d10",
        invoice_number="PBL19-010026",
        account_number="PBL19-010026",
        amount=Decimal(amount),
        method=method,
        approval_code="1234123",
        payer_name="John Smith",
        paid_on=datetime.date(2022, 2, 12),
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_no_secret(exchange, *secrets):
    text = json.dumps(exchange.as_dict())
    for secret in secrets:
        assert secret not in text


# --- CitizenServe: getQuery ---------------------------------------------------


@responses.activate
def test_citizenserve_lookup_sends_the_documented_query():
    responses.get(GETQUERY + "PBL19-010007", json=[SAMPLE_RECORD])
    record = citizenserve().fetch_invoice("PBL19-010007")
    assert record.record == SAMPLE_RECORD
    sent = responses.calls[0].request
    assert sent.url == GETQUERY + "PBL19-010007"
    assert sent.method == "GET"


@responses.activate
def test_citizenserve_empty_array_is_not_found():
    responses.get(GETQUERY + "NOPE-1", json=[])
    with pytest.raises(PartnerNotFound):
        citizenserve().fetch_invoice("NOPE-1")


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, "{}", PartnerAuthError),
        (401, "{}", PartnerAuthError),
        (500, "oops", PartnerUnknown),
        (503, "<html>", PartnerUnknown),
        (400, "{}", PartnerRejected),
        (200, "<html>not json</html>", PartnerBadResponse),
        (200, '{"licensenumber": "x"}', PartnerBadResponse),
        (302, "", PartnerRejected),
    ],
)
@responses.activate
def test_citizenserve_lookup_failures_are_classified(status, body, error):
    responses.get(GETQUERY + "PBL19-010007", status=status, body=body)
    with pytest.raises(error) as raised:
        citizenserve().fetch_invoice("PBL19-010007")
    assert raised.value.exchange.status_code == status
    assert len(responses.calls) == 1  # no redirect followed, no retry


@responses.activate
def test_citizenserve_lookup_read_timeout_is_unknown():
    responses.get(GETQUERY + "PBL19-010007", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(PartnerTimeout) as raised:
        citizenserve().fetch_invoice("PBL19-010007")
    assert raised.value.outcome == Outcome.UNKNOWN


def test_a_refused_connection_is_not_sent():
    url = f"http://127.0.0.1:{free_port()}/Portal/PortalController?Action=getQuery&Param_1="
    with pytest.raises(PartnerNotSent) as raised:
        citizenserve({8: url}).fetch_invoice("PBL19-010007")
    assert raised.value.outcome == Outcome.NOT_SENT and raised.value.retry_safe


# --- CitizenServe: addlicensepayment --------------------------------------------


@responses.activate
def test_citizenserve_payment_matches_the_documented_sample():
    responses.post(
        ADD_PAYMENT,
        json={"Status": "Success", "Description": "Successfully added payment. Receipt #11863"},
    )
    result = citizenserve().post_payment(payment())
    assert (result.outcome, result.receipt_number) == (Outcome.SUCCESS, "11863")
    sent = responses.calls[0].request
    assert sent.headers["apikey"] == API_KEY
    assert sent.headers["Content-Type"] == "text/plain"
    assert sent.headers["Cache-Control"] == "no-cache"
    assert json.loads(sent.body) == {
        "installationID": 24,
        "licenseNumber": "PBL19-010026",
        "paymentAmount": "240.83",
        "paymentDate": "02/12/2022",
        "paymentType": "Credit",
        "paymentReference": "1234123",
        "paymentNote": "8d9a2c1e-5b8f-4a7e-9a51-4c0e2f6b7d10",
        "receivedFrom": "John Smith",
    }
    assert result.exchange.request_headers["apikey"] == "***"
    assert_no_secret(result.exchange, API_KEY)


@responses.activate
def test_citizenserve_bank_payment_is_ach_with_two_decimals():
    responses.post(ADD_PAYMENT, json={"Status": "Success", "Description": "Receipt #7"})
    citizenserve().post_payment(payment(method=PaymentMethod.BANK, amount="50"))
    body = json.loads(responses.calls[0].request.body)
    assert (body["paymentType"], body["paymentAmount"]) == ("ACH", "50.00")


@pytest.mark.parametrize(
    ("status", "body", "outcome", "code"),
    [
        (200, {"Status": "Failed", "Description": "No license"}, "rejected", "partner_rejected"),
        (200, {"Status": "Error"}, "rejected", "partner_rejected"),
        (403, {"Status": "Failed"}, "rejected", "partner_auth_failed"),
        (400, {}, "rejected", "partner_rejected"),
        (500, {}, "unknown", "partner_unavailable"),
        (502, {}, "unknown", "partner_unavailable"),
        (200, ["Success"], "unknown", "partner_bad_response"),
    ],
)  # fmt: skip
@responses.activate
def test_citizenserve_payment_answers_map_to_outcomes(status, body, outcome, code):
    responses.post(ADD_PAYMENT, status=status, json=body)
    result = citizenserve().post_payment(payment())
    assert (result.outcome, result.error_code) == (outcome, code)
    if body and isinstance(body, dict) and body.get("Description"):
        assert result.message == body["Description"]


@responses.activate
def test_citizenserve_payment_malformed_success_is_unknown():
    responses.post(ADD_PAYMENT, body='{"Status": "Succ')
    assert citizenserve().post_payment(payment()).outcome == Outcome.UNKNOWN


@responses.activate
def test_citizenserve_payment_timeout_is_unknown_and_refusal_not_sent():
    responses.post(ADD_PAYMENT, body=requests.exceptions.ReadTimeout("slow"))
    assert citizenserve().post_payment(payment()).outcome == Outcome.UNKNOWN
    refused = citizenserve({11: f"http://127.0.0.1:{free_port()}/pay"}).post_payment(payment())
    assert refused.outcome == Outcome.NOT_SENT


@responses.activate
def test_a_partner_echoing_a_secret_in_its_answer_keeps_it_out_of_the_result():
    responses.post(
        ADD_PAYMENT,
        json={"Status": "Success", "Description": f"Receipt # 123 for key {API_KEY}"},
    )
    responses.post(f"{IMT_BASE}/api/integration/invoice/post-payment", json={"id": INTEGRATOR_ID})

    paid = citizenserve().post_payment(payment())
    posted = imt().post_payment(payment())

    assert (paid.outcome, paid.receipt_number) == (Outcome.SUCCESS, "123")
    assert API_KEY not in paid.message and "Receipt # 123" in paid.message
    assert posted.outcome == Outcome.SUCCESS
    assert INTEGRATOR_ID not in posted.receipt_number


def test_citizenserve_payment_without_its_key_is_not_sent():
    result = citizenserve({13: ""}).post_payment(payment())
    assert (result.outcome, result.error_code) == (Outcome.NOT_SENT, "partner_not_configured")
    assert "setting 13" in result.message


# --- IMT --------------------------------------------------------------------


@responses.activate
def test_imt_detail_sends_the_integrator_id_and_updates_the_balance():
    responses.get(f"{IMT_BASE}/api/integration/invoice/040620220901/detail", json=IMT_DETAIL)
    connector = imt()
    record = connector.fetch_invoice("040620220901")
    assert responses.calls[0].request.headers["X-Integrator-ID"] == INTEGRATOR_ID
    balance = connector.balance_update(record)
    assert (balance.balance_due, balance.past_due) == (Decimal("50.00"), Decimal("50.00"))
    assert record.exchange.request_headers["X-Integrator-ID"] == "***"
    assert_no_secret(record.exchange, INTEGRATOR_ID)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, PartnerNotFound),
        (403, PartnerAuthError),
        (500, PartnerUnknown),
        (400, PartnerRejected),
    ],
)
@responses.activate
def test_imt_detail_status_codes(status, error):
    responses.get(f"{IMT_BASE}/api/integration/invoice/X1/detail", status=status, json={})
    with pytest.raises(error):
        imt().fetch_invoice("X1")


@responses.activate
def test_imt_invoice_numbers_are_escaped_in_the_path():
    responses.get(f"{IMT_BASE}/api/integration/invoice/A%2FB%3F1/detail", json=IMT_DETAIL)
    imt().fetch_invoice("A/B?1")
    assert responses.calls[0].request.url.endswith("/invoice/A%2FB%3F1/detail")


def test_imt_uses_the_documented_base_url_of_its_environment():
    assert imt(settings={8: ""}).base_url == "https://billingtest.imtapps.com"
    assert imt(environment="prod", settings={8: ""}).base_url == "https://billing.imtapps.com"


@responses.activate
def test_imt_post_payment_sends_the_documented_body():
    responses.post(f"{IMT_BASE}/api/integration/invoice/post-payment", status=201, json={"id": 77})
    result = imt().post_payment(
        PaymentRequest(
            payment_guid="guid-1",
            invoice_number="040620220901",
            account_number="0406",
            amount=Decimal("50"),
            method=PaymentMethod.BANK,
            approval_code="A1",
            payer_name="Pat",
            paid_on=datetime.date(2026, 11, 24),
        )
    )
    assert (result.outcome, result.receipt_number) == (Outcome.SUCCESS, "77")
    sent = responses.calls[0].request
    assert sent.headers["X-Integrator-ID"] == INTEGRATOR_ID
    assert json.loads(sent.body) == {
        "customer": "0406",
        "invoice_number": "040620220901",
        "transaction_id": "guid-1",
        "amount": "50.00",
        "payment_method": "echeck",
        "message": "",
        "source": "invoice_cloud",
    }


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        (400, Outcome.REJECTED, "partner_rejected"),
        (403, Outcome.REJECTED, "partner_auth_failed"),
        (500, Outcome.UNKNOWN, "partner_unavailable"),
    ],
)
@responses.activate
def test_imt_post_payment_status_codes(status, outcome, code):
    responses.post(
        f"{IMT_BASE}/api/integration/invoice/post-payment", status=status, json={"amount": ["x"]}
    )
    result = imt().post_payment(payment())
    assert (result.outcome, result.error_code) == (outcome, code)


@responses.activate
def test_imt_bill_pdf_is_streamed():
    pdf = b"%PDF-1.4\n" + b"x" * 200_000 + b"\n%%EOF\n"
    responses.get(
        f"{IMT_BASE}/api/integration/invoice/040620220901/pdf",
        body=pdf,
        content_type="application/pdf",
    )
    document = imt().fetch_bill_pdf("040620220901")
    chunks = list(document.chunks)
    assert len(chunks) > 1 and b"".join(chunks) == pdf
    assert document.content_type == "application/pdf"


@pytest.mark.parametrize(("status", "error"), [(404, PartnerNotFound), (403, PartnerAuthError)])
@responses.activate
def test_imt_bill_pdf_status_codes(status, error):
    responses.get(f"{IMT_BASE}/api/integration/invoice/X1/pdf", status=status)
    with pytest.raises(error):
        imt().fetch_bill_pdf("X1")
