"""The test connection tool of a biller's page (the mapping review and what every tool
must hold: tests/onboarding/test_review.py)."""

import pytest
from django.urls import reverse

from tests.support.partners import IMT_INTEGRATOR_ID

pytestmark = pytest.mark.django_db


def _test_url(biller):
    return reverse("admin:billers_biller_test_connection", args=[biller.pk])


# -- test connection -------------------------------------------------------------------


def test_test_connection_shows_the_redacted_request_and_the_answer(admin_client, imt, imt_sandbox):
    response = admin_client.post(_test_url(imt), {"invoice_number": ""})
    html = response.content.decode()

    assert response.status_code == 200
    lookup, pdf, payments = response.context["result"].checks
    assert lookup.outcome == "rejected" and lookup.reached
    assert lookup.exchange["request_headers"]["X-Integrator-ID"] == "***"
    assert lookup.exchange["status_code"] == 404
    assert "X-Integrator-ID: ***" in html
    assert f"GET {imt_sandbox.url}/api/integration/invoice/ICI-CONNECTION-TEST-0/detail" in html
    assert "{&quot;detail&quot;: &quot;Not found.&quot;}" in html  # the partner's answer
    assert "so the endpoint and the credentials work" in html
    assert pdf.outcome == "rejected"
    assert not payments.called and "must not move money" in html
    assert IMT_INTEGRATOR_ID not in html


def test_test_connection_of_a_known_invoice_reads_it_and_its_bill(admin_client, imt, imt_sandbox):
    response = admin_client.post(_test_url(imt), {"invoice_number": "040620220901"})

    lookup, pdf, _ = response.context["result"].checks
    assert lookup.outcome == pdf.outcome == "success"
    assert '"amount_due": "50.00"' in lookup.exchange["response_body"]
    assert "bytes of application/pdf" in pdf.verdict


def test_test_connection_says_when_the_credentials_are_refused(admin_client, peoria, imt,
                                                                imt_sandbox):  # fmt: skip
    imt_sandbox.set_faults(auth_fail=True)

    response = admin_client.post(_test_url(imt), {"invoice_number": ""})

    assert "the partner refused the biller&#x27;s credentials" in response.content.decode()
    assert response.context["result"].checks[0].exchange["status_code"] == 403


def test_the_test_connection_page_calls_nothing_until_asked(admin_client, imt, imt_sandbox):
    response = admin_client.get(_test_url(imt))

    assert response.status_code == 200
    assert response.context["result"] is None
    assert imt_sandbox.ledger.requests == {}
