"""The bill PDF over the API (issue 15, item 7): a partner's PDF cut short never
reaches the payer as whole. A short one is a 502 `partner_bad_response`; a long
one streamed with the partner's Content-Length is cut off under gunicorn, so the
payer's client sees an incomplete transfer. Both are under Partner calls."""

import datetime
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from billers.services.api_clients import api_client_create
from partners.models import PartnerCall
from partners.services.sandboxes import biller_point_at_sandbox
from tests.billers.factories import CustomerFactory, InvoiceFactory
from tests.support.bill_partner import Bill, BillPartner, pdf_of
from tests.support.gunicorn import gunicorn_running
from tests.support.partners import IMT_INTEGRATOR_ID

NUMBER = "040620220901"
URL = f"/api/v1/billers/1367/invoices/{NUMBER}/pdf"


def hub_invoice(biller):
    return InvoiceFactory(
        biller=biller,
        customer=CustomerFactory(biller=biller, account_number="0406"),
        invoice_number=NUMBER,
        total_amount_due=Decimal("50.00"),
        refreshed_at=timezone.now() - datetime.timedelta(hours=1),
    )


@pytest.mark.django_db
def test_the_partners_pdf_cut_short_at_346_of_692_bytes_is_a_502(api, imt, imt_sandbox):
    # The request: the IMT sandbox's 692-byte bill, sent as its first 346 bytes.
    hub_invoice(imt)
    invoice = imt_sandbox.ledger.get_invoice(NUMBER)
    imt_sandbox.ledger.add_invoice({**invoice, "customer": f"{invoice['customer']}A"})
    whole = requests.get(
        f"{imt_sandbox.url}/api/integration/invoice/{NUMBER}/pdf",
        headers={"X-Integrator-ID": IMT_INTEGRATOR_ID},
        timeout=5,
    ).content
    assert len(whole) == 692 and whole.endswith(b"%%EOF\n")
    imt_sandbox.set_faults(malformed_rate=1.0)

    response = api.get(URL)

    assert response.status_code == 502
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "partner_bad_response"
    call = PartnerCall.objects.get(operation="bill_pdf")
    assert (call.outcome, call.error_code) == ("unknown", "partner_bad_response")
    assert "cut short: 346 bytes" in call.message


@pytest.mark.django_db
def test_a_whole_pdf_carries_the_partners_content_length(api, imt, imt_sandbox):
    hub_invoice(imt)

    response = api.get(URL)

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(body))
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")


@pytest.mark.django_db
def test_an_answer_that_is_not_a_pdf_is_a_502(api, presets):
    partner = BillPartner().start()
    try:
        biller = presets["imt"]
        biller_point_at_sandbox(
            biller=biller, sandbox_url=partner.url, credential=IMT_INTEGRATOR_ID
        )
        hub_invoice(biller)
        partner.bill = Bill(b"<html><body>Maintenance</body></html>")

        response = api.get(URL)
    finally:
        partner.stop()

    assert (response.status_code, response.json()["code"]) == (502, "partner_bad_response")
    assert PartnerCall.objects.get(operation="bill_pdf").error_code == "partner_bad_response"


# --- under gunicorn: the payer's connection is dropped ----------------------------


@pytest.fixture
def gunicorn(tmp_path):
    """The hub under gunicorn (one sync worker) on the test database."""
    with gunicorn_running(tmp_path / "gunicorn.log", workers=1) as base:
        yield base


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("bill", "declared"),
    [
        (Bill(pdf_of(300_000), sent=150_000), 300_000),  # the partner stops half way
        (Bill(pdf_of(300_000)[:200_000]), 200_000),  # its length matches, its %%EOF is missing
    ],
    ids=["short-read", "no-eof"],
)
def test_a_long_pdf_cut_short_drops_the_payers_connection_under_gunicorn(
    presets, gunicorn, bill, declared
):
    partner = BillPartner().start()
    try:
        biller = presets["imt"]
        biller_point_at_sandbox(
            biller=biller, sandbox_url=partner.url, credential=IMT_INTEGRATOR_ID
        )
        hub_invoice(biller)
        _, token = api_client_create(name="payer-site", bids=[1367])
        partner.bill = bill

        response = requests.get(
            gunicorn + URL, headers={"Authorization": f"Bearer {token}"}, stream=True, timeout=10
        )
        assert response.status_code == 200
        assert response.headers["Content-Length"] == str(declared)  # the partner's, passed on
        received = bytearray()
        with pytest.raises(requests.exceptions.ChunkedEncodingError):  # an incomplete read
            for chunk in response.iter_content(64 * 1024):
                received += chunk
    finally:
        partner.stop()

    assert len(received) < declared
    call = PartnerCall.objects.get(operation="bill_pdf")
    assert (call.outcome, call.error_code) == ("unknown", "partner_bad_response")
    assert "the payer's download was cut off" in call.message
