"""A lookup whose record maps but cannot be stored: 502 partner_bad_record naming
the field, recorded under Partner calls as such; never a 404, never a race."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from billers.models import FieldMapping, Invoice
from partners.models import PartnerCall
from partners.services import rtdr
from tests.billers.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

PEORIA_SAMPLE = "PBL19-010007"


def lookup(api, number=PEORIA_SAMPLE):
    return api.get(f"/api/v1/billers/2249/invoices/{number}")


def test_a_biller_with_only_file_spec_id_10_mapped_answers_502_naming_the_total(
    api, peoria, citizenserve_sandbox
):
    # Given a biller saved (before the mapping was enforced) with only FileSpecID 10
    FieldMapping.objects.filter(biller=peoria).exclude(file_spec_id=10).delete()

    # When a payer looks an invoice up
    response = lookup(api)

    # Then the answer is a bad record naming the field, not "no such invoice"
    assert response.status_code == 502, response.content
    body = response.json()
    assert body["code"] == "partner_bad_record"
    assert "TotalAmountDue (FileSpecID 13)" in body["message"]
    assert {"file_spec_id": 13, "ic_field": "TotalAmountDue"} in body["extra"]["fields"]
    # And the partner call is recorded as a bad record, not a success
    call = PartnerCall.objects.get(biller=peoria)
    assert call.error_code == "partner_bad_record"
    assert call.operation == "invoice_generate"
    assert "FileSpecID 13 TotalAmountDue" in call.message
    assert not Invoice.objects.filter(biller=peoria).exists()


def test_the_second_lookup_answers_the_same_502(api, peoria, citizenserve_sandbox):
    FieldMapping.objects.filter(biller=peoria, file_spec_id=13).delete()
    assert lookup(api).status_code == 502
    response = lookup(api)
    assert response.status_code == 502
    assert response.json()["code"] == "partner_bad_record"
    assert PartnerCall.objects.filter(error_code="partner_bad_record").count() == 2


def test_an_integrity_error_without_a_row_is_no_race_but_a_bad_record(
    api, peoria, citizenserve_sandbox, monkeypatch
):
    def refuse(**kwargs):
        raise IntegrityError("NOT NULL constraint failed: billers_invoice.total_amount_due")

    monkeypatch.setattr(rtdr, "invoice_create_from_partner", refuse)

    response = lookup(api)

    assert response.status_code == 502
    assert response.json()["code"] == "partner_bad_record"
    call = PartnerCall.objects.get(biller=peoria)
    assert call.error_code == "partner_bad_record"
    assert "cannot store the record" in call.message


def test_a_real_race_with_an_invoice_file_refreshes_the_row_it_wrote(
    api, peoria, citizenserve_sandbox, monkeypatch
):
    def written_meanwhile(*, biller, **kwargs):
        customer = CustomerFactory(biller=biller, account_number=PEORIA_SAMPLE)
        InvoiceFactory(
            biller=biller, customer=customer, invoice_number=PEORIA_SAMPLE,
            total_amount_due=Decimal("1.00"),
        )  # fmt: skip
        raise IntegrityError("UNIQUE constraint failed: uniq_biller_invoice_number")

    monkeypatch.setattr(rtdr, "invoice_create_from_partner", written_meanwhile)

    response = lookup(api)

    assert response.status_code == 200, response.content
    assert response.json()["invoice_number"] == PEORIA_SAMPLE
    call = PartnerCall.objects.get(biller=peoria)
    assert (call.outcome, call.error_code) == ("success", "")
