import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from partners.sandbox import SandboxServer
from tests.partners.fixtures import CITIZENSERVE_GETQUERY_SAMPLE, IMT_INVOICE_DETAIL_SAMPLE

CS_KEY = "sandbox-citizenserve-key"
IMT_ID = "sandbox-imt-integrator"
TIMEOUT = (1.0, 3.0)
LOOKUP = (
    "/Portal/PortalController?Action=getQuery&portalPageDisplay=true&report_ID=641"
    "&installationID=24&ctzPagePrefix=Portal_&ParamCount=1&Param_1={}"
)
ADD_PAYMENT = "/citizenws/service/addlicensepayment"
POST_PAYMENT = "/api/integration/invoice/post-payment"
# The sample answers of the technical designs, as they show them.
CS_SAMPLE = CITIZENSERVE_GETQUERY_SAMPLE
IMT_SAMPLE = IMT_INVOICE_DETAIL_SAMPLE


@pytest.fixture
def citizenserve():
    server = SandboxServer(partner="citizenserve", credential=CS_KEY, seed=1234).start()
    yield server
    server.stop()


@pytest.fixture
def imt():
    server = SandboxServer(partner="imt", credential=IMT_ID, seed=1234).start()
    yield server
    server.stop()


def cs_payment(**overrides):
    body = {
        "installationID": 24,
        "licenseNumber": "PBL19-010026",
        "paymentAmount": "240.83",
        "paymentDate": "02/12/2022",
        "paymentType": "Credit",
        "paymentReference": "1234123",
        "paymentNote": "Transaction ID: 12412. Paid with VISA.",
        "receivedFrom": "John Smith",
    }
    body.update(overrides)
    return body


def post_cs_payment(server, body, *, key=CS_KEY, timeout=TIMEOUT):
    headers = {"Cache-Control": "no-cache", "Content-Type": "text/plain"}
    if key is not None:
        headers["apikey"] = key
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post(server.url + ADD_PAYMENT, data=data, headers=headers, timeout=timeout)


def imt_payment(**overrides):
    body = {
        "customer": "0406",
        "invoice_number": "040620220901",
        "transaction_id": "5d1c7e0e-2f4b-4a51-9d33-7a0c1f1f2b10",
        "amount": "50.00",
        "payment_method": "credit",
        "message": "",
        "source": "invoice_cloud",
    }
    body.update(overrides)
    return body


def imt_get(server, path, *, integrator_id=IMT_ID):
    headers = {"X-Integrator-ID": integrator_id} if integrator_id is not None else {}
    return requests.get(server.url + path, headers=headers, timeout=TIMEOUT)


def post_imt_payment(server, body, *, integrator_id=IMT_ID):
    headers = {"X-Integrator-ID": integrator_id} if integrator_id is not None else {}
    return requests.post(server.url + POST_PAYMENT, json=body, headers=headers, timeout=TIMEOUT)


# CitizenServe


def test_citizenserve_lookup_answers_the_documents_sample(citizenserve):
    response = requests.get(citizenserve.url + LOOKUP.format("PBL19-010007"), timeout=TIMEOUT)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == CS_SAMPLE
    assert citizenserve.ledger.requests == {"lookup": 1}


def test_citizenserve_lookup_of_an_unknown_license_is_an_empty_array(citizenserve):
    response = requests.get(citizenserve.url + LOOKUP.format("PBL99-999999"), timeout=TIMEOUT)

    assert response.status_code == 200
    assert response.json() == []


def test_citizenserve_lookup_without_param_or_with_another_action_is_400(citizenserve):
    no_param = requests.get(citizenserve.url + LOOKUP.format(""), timeout=TIMEOUT)
    other_action = requests.get(
        citizenserve.url + LOOKUP.format("PBL19-010007").replace("getQuery", "runReport"),
        timeout=TIMEOUT,
    )

    assert no_param.status_code == 400
    assert no_param.json()["Status"] == "Failed"
    assert other_action.status_code == 400


def test_the_ledger_keeps_the_query_of_each_request_until_a_reset(citizenserve):
    requests.get(
        citizenserve.url + LOOKUP.format("PBL19-010007").replace("=24", "=3001"), timeout=TIMEOUT
    )
    post_cs_payment(citizenserve, cs_payment())

    lookup, payment = citizenserve.ledger.queries
    assert lookup["operation"] == "lookup"
    assert lookup["query"]["installationID"] == "3001"
    assert lookup["query"]["Param_1"] == "PBL19-010007"
    assert payment == {"operation": "payment", "query": {}}
    citizenserve.reset()
    assert citizenserve.ledger.queries == []


def test_citizenserve_unknown_path_is_404(citizenserve):
    response = requests.get(citizenserve.url + "/citizenws/service/other", timeout=TIMEOUT)

    assert response.status_code == 404
    assert citizenserve.ledger.requests == {}


def test_citizenserve_payment_is_applied_with_a_receipt(citizenserve):
    response = post_cs_payment(citizenserve, cs_payment())

    assert response.status_code == 200
    assert response.json() == {
        "Status": "Success",
        "Description": "Successfully added payment. Receipt #11863",
    }
    [payment] = citizenserve.ledger.payments
    assert payment["key"] == "Transaction ID: 12412. Paid with VISA."
    assert payment["invoice_number"] == "PBL19-010026"
    assert payment["amount"] == "240.83"
    assert payment["receipt"] == "11863"
    assert payment["duplicate"] is False
    assert payment["body"] == cs_payment()
    assert citizenserve.ledger.invoices["PBL19-010026"]["balancedue"] == 0


def test_citizenserve_payment_reduces_the_balance_seen_by_lookup(citizenserve):
    post_cs_payment(citizenserve, cs_payment(licenseNumber="PBL19-010007", paymentAmount="12.34"))

    response = requests.get(citizenserve.url + LOOKUP.format("PBL19-010007"), timeout=TIMEOUT)

    assert response.json()[0]["balancedue"] == 12.66
    assert response.json()[0]["totalamountdue"] == 70


def test_citizenserve_second_payment_with_the_same_note_is_flagged_duplicate(citizenserve):
    first = post_cs_payment(citizenserve, cs_payment(paymentAmount="10.00"))
    second = post_cs_payment(citizenserve, cs_payment(paymentAmount="10.00"))

    assert first.json()["Description"].endswith("#11863")
    assert second.json()["Description"].endswith("#11864")
    payments = citizenserve.ledger.payments_for("Transaction ID: 12412. Paid with VISA.")
    assert [p["duplicate"] for p in payments] == [False, True]
    assert citizenserve.ledger.invoices["PBL19-010026"]["balancedue"] == 220.83


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_citizenserve_payment_with_a_missing_or_wrong_key_is_403(citizenserve, key):
    response = post_cs_payment(citizenserve, cs_payment(), key=key)

    assert response.status_code == 403
    assert response.json() == {"Status": "Failed", "Description": "Invalid API key"}
    assert citizenserve.ledger.payments == []


def test_citizenserve_payment_for_an_unknown_license_fails(citizenserve):
    response = post_cs_payment(citizenserve, cs_payment(licenseNumber="PBL99-000000"))

    assert response.status_code == 200
    assert response.json() == {"Status": "Failed", "Description": "License PBL99-000000 not found"}
    assert citizenserve.ledger.payments == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        {k: v for k, v in cs_payment().items() if k != "paymentNote"},
        cs_payment(paymentAmount="240.8"),
        cs_payment(paymentAmount=240.83),
        cs_payment(paymentAmount="0.00"),
        cs_payment(paymentDate="2022-02-12"),
        cs_payment(paymentDate="02/30/2022"),
        cs_payment(paymentType="Visa"),
        cs_payment(installationID="24"),
    ],
)
def test_citizenserve_payment_with_a_bad_body_fails_and_applies_nothing(citizenserve, body):
    response = post_cs_payment(citizenserve, body)

    assert response.status_code == 200
    assert response.json()["Status"] == "Failed"
    assert response.json()["Description"]
    assert citizenserve.ledger.payments == []
    assert citizenserve.ledger.invoices["PBL19-010026"]["balancedue"] == 240.83


def test_citizenserve_demo_data_has_the_generated_licenses(citizenserve):
    invoices = citizenserve.ledger.invoices

    assert len(invoices) == 22
    assert invoices["PBL26-000020"]["balancedue"] == 100
    assert invoices["PBL26-000001"]["customerzip"] == "85345"
    assert set(invoices["PBL19-010026"]) == set(CS_SAMPLE[0])


# IMT


def test_imt_detail_answers_the_documents_sample(imt):
    response = imt_get(imt, "/api/integration/invoice/040620220901/detail")

    assert response.status_code == 200
    assert response.json() == IMT_SAMPLE
    assert imt.ledger.requests == {"lookup": 1}


def test_imt_detail_of_an_unknown_invoice_is_404(imt):
    response = imt_get(imt, "/api/integration/invoice/NOPE/detail")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("integrator_id", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("someone-else", "Invalid integrator id."),
    ],
)
def test_imt_without_the_integrator_id_is_403_everywhere(imt, integrator_id, detail):
    detail_response = imt_get(
        imt, "/api/integration/invoice/040620220901/detail", integrator_id=integrator_id
    )
    pdf_response = imt_get(
        imt, "/api/integration/invoice/040620220901/pdf", integrator_id=integrator_id
    )
    payment_response = post_imt_payment(imt, imt_payment(), integrator_id=integrator_id)

    for response in (detail_response, pdf_response, payment_response):
        assert response.status_code == 403
        assert response.json() == {"detail": detail}
    assert imt.ledger.payments == []


def test_imt_post_payment_is_201_with_the_posted_payment(imt):
    response = post_imt_payment(imt, imt_payment(amount="20.00"))

    assert response.status_code == 201
    posted = response.json()
    assert isinstance(posted["id"], int)
    assert posted["created"]
    assert {k: v for k, v in posted.items() if k not in ("id", "created")} == imt_payment(
        amount="20.00"
    )
    [payment] = imt.ledger.payments
    assert payment["key"] == "5d1c7e0e-2f4b-4a51-9d33-7a0c1f1f2b10"
    assert payment["receipt"] == str(posted["id"])
    detail = imt_get(imt, "/api/integration/invoice/040620220901/detail").json()
    assert detail["amount_due"] == "30.00"
    assert detail["paid_amount"] == "20.00"


def test_imt_post_payment_accepts_a_number_and_flags_a_duplicate(imt):
    post_imt_payment(imt, imt_payment(amount=25))
    post_imt_payment(imt, imt_payment(amount=25.5))

    payments = imt.ledger.payments
    assert [p["amount"] for p in payments] == ["25.00", "25.50"]
    assert [p["duplicate"] for p in payments] == [False, True]
    assert imt.ledger.invoices["040620220901"]["amount_due"] == "-0.50"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in imt_payment().items() if k != "amount"}, "amount"),
        (imt_payment(amount="12.345"), "amount"),
        (imt_payment(amount="-5.00"), "amount"),
        (imt_payment(amount="ten"), "amount"),
        (imt_payment(payment_method="visa"), "payment_method"),
        (imt_payment(transaction_id=""), "transaction_id"),
        (imt_payment(invoice_number="NOPE"), "invoice_number"),
        (imt_payment(customer="9999"), "customer"),
    ],
)
def test_imt_post_payment_with_an_invalid_body_is_400_with_field_errors(imt, body, field):
    response = post_imt_payment(imt, body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field][0], str)
    assert imt.ledger.payments == []


def test_imt_pdf_is_a_valid_pdf_of_the_invoice(imt):
    response = imt_get(imt, "/api/integration/invoice/040620220901/pdf")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.endswith(b"%%EOF\n")
    assert b"(IMT invoice 040620220901)" in pdf
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj" % number)
    assert imt.ledger.requests == {"pdf": 1}


def test_imt_pdf_of_an_unknown_invoice_is_404(imt):
    assert imt_get(imt, "/api/integration/invoice/NOPE/pdf").status_code == 404


# Faults


def test_latency_delays_the_answer(citizenserve):
    citizenserve.set_faults(latency_ms=200)

    started = time.monotonic()
    response = requests.get(citizenserve.url + LOOKUP.format("PBL19-010007"), timeout=TIMEOUT)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_error_rate_answers_503_and_applies_nothing(citizenserve):
    citizenserve.set_faults(error_rate=1.0)

    response = post_cs_payment(citizenserve, cs_payment())

    assert response.status_code == 503
    assert response.text == "<html>Service Unavailable</html>"
    assert citizenserve.ledger.payments == []
    assert citizenserve.ledger.requests == {"payment": 1}


def test_timeout_rate_hangs_up_after_applying_the_payment(citizenserve):
    citizenserve.set_faults(timeout_rate=1.0, hang_seconds=1.0)

    with pytest.raises(requests.ReadTimeout):
        post_cs_payment(citizenserve, cs_payment(), timeout=(1.0, 0.3))

    assert len(citizenserve.ledger.payments_for("Transaction ID: 12412. Paid with VISA.")) == 1
    assert citizenserve.ledger.requests == {"payment": 1}


def test_malformed_rate_answers_200_with_a_body_that_is_not_json(imt):
    imt.set_faults(malformed_rate=1.0)

    response = post_imt_payment(imt, imt_payment())

    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)
    assert len(imt.ledger.payments) == 1


def test_auth_fail_answers_the_partners_403(citizenserve, imt):
    citizenserve.set_faults(auth_fail=True)
    imt.set_faults(auth_fail=True)

    cs_response = post_cs_payment(citizenserve, cs_payment())
    imt_response = imt_get(imt, "/api/integration/invoice/040620220901/detail")

    assert cs_response.status_code == 403
    assert cs_response.json() == {"Status": "Failed", "Description": "Invalid API key"}
    assert imt_response.status_code == 403
    assert imt_response.json() == {"detail": "Invalid integrator id."}
    assert citizenserve.ledger.payments == []


def test_set_faults_changes_only_the_given_faults(citizenserve):
    citizenserve.set_faults(latency_ms=50, error_rate=0.5)
    citizenserve.set_faults(timeout_rate=0.25)

    faults = citizenserve.faults
    assert (faults.latency_ms, faults.error_rate, faults.timeout_rate) == (50, 0.5, 0.25)
    assert faults.hang_seconds == 5.0
    with pytest.raises(ValueError):
        citizenserve.set_faults(error_rate=1.5)


def test_go_down_refuses_connections_then_serves_again_on_the_same_port(imt):
    url = imt.url
    imt.go_down(1.0)

    with pytest.raises(requests.ConnectionError):
        imt_get(imt, "/api/integration/invoice/040620220901/detail")
    time.sleep(1.5)
    response = imt_get(imt, "/api/integration/invoice/040620220901/detail")

    assert imt.url == url
    assert response.status_code == 200


def test_go_down_cuts_a_kept_alive_connection(citizenserve):
    with requests.Session() as session:
        url = citizenserve.url + LOOKUP.format("PBL19-010007")
        assert session.get(url, timeout=TIMEOUT).status_code == 200
        citizenserve.go_down(5.0)

        with pytest.raises(requests.ConnectionError):
            session.get(url, timeout=TIMEOUT)


# Control API


def test_control_api_over_http(citizenserve):
    control = citizenserve.url + "/_sandbox"
    record = dict(CS_SAMPLE[0], licensenumber="PBL26-999999", balancedue=12.5)

    faults = requests.post(control + "/faults", json={"latency_ms": 5}, timeout=TIMEOUT)
    added = requests.post(control + "/invoices", json=record, timeout=TIMEOUT)
    post_cs_payment(citizenserve, cs_payment(licenseNumber="PBL26-999999", paymentAmount="2.50"))
    ledger = requests.get(control + "/ledger", timeout=TIMEOUT).json()
    bad = requests.post(control + "/faults", json={"error_rate": 2}, timeout=TIMEOUT)
    reset = requests.post(control + "/reset", json={"demo_data": False}, timeout=TIMEOUT)

    assert faults.json()["latency_ms"] == 5
    assert faults.json()["hang_seconds"] == 5.0
    assert added.status_code == 201
    assert ledger["invoices"]["PBL26-999999"]["balancedue"] == 10
    assert [p["receipt"] for p in ledger["payments"]] == ["11863"]
    assert ledger["requests"] == {"payment": 1}
    assert bad.status_code == 400
    assert reset.status_code == 200
    assert citizenserve.faults.latency_ms == 0
    assert citizenserve.ledger.snapshot() == {"invoices": {}, "payments": [], "requests": {}}


def test_control_api_down_answers_202_then_refuses_connections(imt):
    response = requests.post(imt.url + "/_sandbox/down", json={"seconds": 5}, timeout=TIMEOUT)

    assert response.status_code == 202
    with pytest.raises(requests.ConnectionError):
        requests.get(imt.url + "/_sandbox/ledger", timeout=TIMEOUT)


# Management command


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_command_refuses_a_host_that_is_not_loopback(host):
    with pytest.raises(CommandError, match="loopback"):
        call_command("partner_sandbox", "citizenserve", "--port", "0", "--host", host)


def test_command_serves_until_sigterm_without_printing_the_credential():
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "icintegrations.settings_test",
        "ICI_SANDBOX_IMT_INTEGRATOR_ID": "env-integrator-id",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "partner_sandbox", "imt", "--port", "0"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first_line).group(0)
        response = requests.get(
            url + "/api/integration/invoice/IMT0000001/detail",
            headers={"X-Integrator-ID": "env-integrator-id"},
            timeout=TIMEOUT,
        )
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()

    assert first_line.startswith("IMT sandbox on http://127.0.0.1:")
    assert "(credential from ICI_SANDBOX_IMT_INTEGRATOR_ID)" in first_line
    assert response.status_code == 200
    assert process.returncode == 0
    assert "GET /api/integration/invoice/IMT0000001/detail 200" in stderr
    assert "env-integrator-id" not in first_line + stdout + stderr
