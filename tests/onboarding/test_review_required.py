"""The mapping review lists the required rows a mapping lacks as errors: an
incomplete mapping never "maps without an error"."""

import json

import pytest
from django.urls import reverse

from billers.models import FieldMapping, MappingRule
from partners.sandbox.citizenserve import SAMPLE_RECORD

pytestmark = pytest.mark.django_db

MAPS_CLEANLY = "The record maps without an error"


def _review_url(biller):
    return reverse("admin:billers_biller_mapping_review", args=[biller.pk])


def _review(client, biller, **data):
    response = client.post(_review_url(biller), {"sample": "", "invoice_number": "", **data})
    assert response.status_code == 200
    return response, response.content.decode()


def test_a_complete_mapping_lists_no_missing_row(admin_client, presets):
    response, html = _review(admin_client, presets["peoria"], sample=json.dumps([SAMPLE_RECORD]))

    assert response.context["review"].missing == ()
    assert 'id="missing-required"' not in html
    assert MAPS_CLEANLY in html


def test_a_mapping_with_only_file_spec_id_10_lists_the_missing_rows_as_errors(
    admin_client, presets
):
    peoria = presets["peoria"]
    FieldMapping.objects.filter(biller=peoria).exclude(file_spec_id=10).delete()

    page = admin_client.get(_review_url(peoria)).content.decode()  # before any review
    assert 'id="missing-required"' in page
    assert "FileSpecID 13 TotalAmountDue is required: the mapping has no row for it." in page
    assert "FileSpecID 59 AccountNumber is required" in page
    assert "FileSpecID 60 CustomerName is required" in page
    assert "FileSpecID 10 InvoiceNumber" not in page

    response, html = _review(admin_client, peoria, sample=json.dumps([SAMPLE_RECORD]))
    review = response.context["review"]
    assert [(e.file_spec_id, e.ic_field) for e in review.missing] == [
        (13, "TotalAmountDue"),
        (59, "AccountNumber"),
        (60, "CustomerName"),
    ]
    assert MAPS_CLEANLY not in html
    # The record itself cannot be stored without its total: an error of the review too.
    assert any(e.file_spec_id == 13 and "cannot store" in e.message for e in review.errors), (
        review.errors
    )
    assert "the hub would not write this record" in html


def test_a_required_row_that_maps_nothing_is_listed(admin_client, presets):
    imt = presets["imt"]
    FieldMapping.objects.filter(biller=imt, file_spec_id=60).update(
        rule=MappingRule.NONE, partner_field=""
    )

    html = admin_client.get(_review_url(imt)).content.decode()

    assert (
        "FileSpecID 60 CustomerName is required: its rule (Not mapped) gives it no value." in html
    )
