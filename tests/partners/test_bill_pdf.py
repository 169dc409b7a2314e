"""The bill PDF on its way from the partner (partners.services.bill_pdf): a PDF
reaches the payer whole or not at all, and every problem is under Partner calls."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from icintegrations.errors import ApplicationError
from partners.models import PartnerCall
from partners.services.bill_pdf import SMALL_BILL, BillCutShort, bill_pdf_fetch
from partners.services.sandboxes import biller_point_at_sandbox
from tests.billers.factories import CustomerFactory, InvoiceFactory
from tests.support.bill_partner import Bill, BillPartner, pdf_of
from tests.support.partners import IMT_INTEGRATOR_ID

NUMBER = "040620220901"


@pytest.fixture
def partner():
    server = BillPartner().start()
    yield server
    server.stop()


@pytest.fixture
def imt(presets, partner):
    biller = presets["imt"]
    biller_point_at_sandbox(biller=biller, sandbox_url=partner.url, credential=IMT_INTEGRATOR_ID)
    InvoiceFactory(
        biller=biller,
        customer=CustomerFactory(biller=biller, account_number="0406"),
        invoice_number=NUMBER,
        total_amount_due=Decimal("50.00"),
        refreshed_at=timezone.now() - datetime.timedelta(hours=1),
    )
    return biller


def fetch(imt) -> bytes:
    document = bill_pdf_fetch(biller=imt, invoice_number=NUMBER)
    body = b"".join(document.chunks)
    assert document.length in (None, len(body))
    return body


def refused(imt) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        bill_pdf_fetch(biller=imt, invoice_number=NUMBER)
    return caught.value


def the_call() -> PartnerCall:
    return PartnerCall.objects.get(operation="bill_pdf")


@pytest.mark.parametrize("size", [692, SMALL_BILL, SMALL_BILL + 1, 300_000])
def test_a_whole_pdf_passes_with_its_length(imt, partner, size):
    partner.bill = Bill(pdf_of(size))

    document = bill_pdf_fetch(biller=imt, invoice_number=NUMBER)

    assert document.length == size
    assert b"".join(document.chunks) == pdf_of(size)
    assert (the_call().outcome, the_call().error_code) == ("success", "")


def test_a_small_pdf_cut_short_is_a_502_recorded_as_a_bad_response(imt, partner):
    # The case: 346 of 692 bytes, the Content-Length matching what was sent.
    partner.bill = Bill(pdf_of(692)[:346])

    error = refused(imt)

    assert (error.status_code, error.code) == (502, "partner_bad_response")
    call = the_call()
    assert (call.outcome, call.error_code) == ("unknown", "partner_bad_response")
    assert "cut short: 346 bytes, and no %%EOF" in call.message


def test_a_small_pdf_shorter_than_declared_is_a_502(imt, partner):
    partner.bill = Bill(pdf_of(692), sent=346)

    error = refused(imt)

    assert (error.status_code, error.code) == (502, "partner_bad_response")
    assert "346 of 692" in the_call().message
    assert the_call().error_code == "partner_bad_response"


@pytest.mark.parametrize(
    "body",
    [b"<html>Service temporarily down</html>", b"", b"%PDF", b'{"error": "no pdf"}'],
)
def test_an_answer_that_is_not_a_pdf_is_a_502(imt, partner, body):
    partner.bill = Bill(body, content_type="application/pdf")

    error = refused(imt)

    assert (error.status_code, error.code) == (502, "partner_bad_response")
    assert "not a PDF" in the_call().message


def test_a_large_pdf_cut_short_ends_the_stream_with_an_error(imt, partner):
    partner.bill = Bill(pdf_of(300_000), sent=150_000)

    document = bill_pdf_fetch(biller=imt, invoice_number=NUMBER)
    received = bytearray()
    with pytest.raises(BillCutShort):
        for chunk in document.chunks:
            received += chunk

    # the Content-Length passed on is the partner's: the payer's client sees less
    assert document.length == 300_000
    assert len(received) < 300_000
    call = the_call()
    assert (call.outcome, call.error_code) == ("unknown", "partner_bad_response")
    assert "the payer's download was cut off" in call.message


def test_a_large_pdf_without_its_end_ends_the_stream_with_an_error(imt, partner):
    # Content-Length matches what was sent, but the PDF has no %%EOF: cut short upstream.
    partner.bill = Bill(pdf_of(300_000)[:200_000])

    document = bill_pdf_fetch(biller=imt, invoice_number=NUMBER)
    received = bytearray()
    with pytest.raises(BillCutShort):
        for chunk in document.chunks:
            received += chunk

    # the last chunk is held back: the payer never gets the declared length
    assert document.length == 200_000 and len(received) < 200_000
    assert "no %%EOF" in the_call().message
