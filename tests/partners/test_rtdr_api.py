"""RTDR over the API, against the partner sandboxes over real HTTP."""

import datetime
import logging
import threading
import time
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from billers.models import BillerOption, Invoice, RefreshSource
from billers.services.api_clients import api_client_create
from billers.zones import today_in_zone
from partners.models import PartnerCall
from tests.billers.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

PEORIA_SAMPLE = "PBL19-010007"
IMT_SAMPLE = "040620220901"


def lookup(api, bid, number, **params):
    return api.get(f"/api/v1/billers/{bid}/invoices/{number}", params)


def lookups(sandbox):
    return sandbox.ledger.snapshot()["requests"].get("lookup", 0)


def imt_invoice(imt, *, refreshed_hours_ago=1, zip_code="62701", number=IMT_SAMPLE):
    customer = CustomerFactory(biller=imt, account_number="0406", zip=zip_code)
    return InvoiceFactory(
        biller=imt,
        customer=customer,
        invoice_number=number,
        total_amount_due=Decimal("50.00"),
        balance_due=Decimal("40.00"),
        refreshed_at=timezone.now() - datetime.timedelta(hours=refreshed_hours_ago),
    )


def partner_change(sandbox, number, **fields):
    sandbox.ledger.add_invoice({**sandbox.ledger.get_invoice(number), **fields})


def age(invoice, hours):
    Invoice.objects.filter(pk=invoice.pk).update(
        refreshed_at=timezone.now() - datetime.timedelta(hours=hours)
    )


# --- generation, the 6-hour rule, refresh ---------------------------------------


def test_a_missing_peoria_invoice_is_generated_from_citizenserve(api, peoria, citizenserve_sandbox):
    response = lookup(api, 2249, PEORIA_SAMPLE)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["invoice_number"] == PEORIA_SAMPLE
    assert body["account_number"] == PEORIA_SAMPLE
    assert (body["total_amount_due"], body["balance_due"]) == ("70.00", "25.00")
    assert body["past_due"] is None
    assert body["customer"] == {
        "name": "JOSE L SALAZAR",
        "address1": "JOSE SALAZAR 10539 W ALICE Avenue",
        "address2": "",
        "city": "PEORIA",
        "state": "AZ",
        "zip": "85345",
    }
    assert body["stale"] is False and body["refreshed_at"]
    # "today" of the mapping is Peoria's day, not the server's (they differ every evening)
    today = today_in_zone(time_zone=peoria.time_zone).isoformat()
    assert body["invoice_date"] == body["due_date"] == today
    invoice = Invoice.objects.get(biller=peoria, invoice_number=PEORIA_SAMPLE)
    assert invoice.refreshed_via == RefreshSource.RTDR_GENERATE
    assert invoice.raw_payload["description"] == "ROCKY POINT SHRIMP"
    assert lookups(citizenserve_sandbox) == 1


def test_an_invoice_refreshed_within_six_hours_is_served_without_a_partner_call(
    api, peoria, citizenserve_sandbox
):
    lookup(api, 2249, PEORIA_SAMPLE)
    for _ in range(3):
        assert lookup(api, 2249, PEORIA_SAMPLE).status_code == 200
    assert lookups(citizenserve_sandbox) == 1


def test_an_older_invoice_has_its_balance_refreshed(api, peoria, citizenserve_sandbox):
    # ITG-3323: RTDR refreshes the balance of an existing CitizenServe invoice.
    lookup(api, 2249, PEORIA_SAMPLE)
    invoice = Invoice.objects.get(biller=peoria, invoice_number=PEORIA_SAMPLE)
    age(invoice, hours=7)
    partner_change(citizenserve_sandbox, PEORIA_SAMPLE, balancedue=12.5)
    body = lookup(api, 2249, PEORIA_SAMPLE).json()
    assert body["balance_due"] == "12.50" and body["stale"] is False
    invoice.refresh_from_db()
    assert invoice.refreshed_via == RefreshSource.RTDR_REFRESH
    assert lookups(citizenserve_sandbox) == 2


def test_option_64_on_calls_imt_on_every_lookup(api, imt, imt_sandbox):
    # IMT's option 64 (Override 6 Hour Previous RTDR Check) is On in its preset.
    invoice = imt_invoice(imt, refreshed_hours_ago=0)
    for _ in range(2):
        body = lookup(api, 1367, IMT_SAMPLE).json()
    # IMT: balance due from amount_due, past due from past_due.
    assert (body["balance_due"], body["past_due"]) == ("50.00", "50.00")
    assert body["total_amount_due"] == "50.00"
    assert lookups(imt_sandbox) == 2
    invoice.refresh_from_db()
    assert invoice.refreshed_via == RefreshSource.RTDR_REFRESH


def test_option_64_off_keeps_the_six_hour_rule(api, imt, imt_sandbox):
    BillerOption.objects.filter(biller=imt, option_id=64).update(enabled=False)
    imt_invoice(imt, refreshed_hours_ago=1)
    assert lookup(api, 1367, IMT_SAMPLE).json()["balance_due"] == "40.00"
    assert lookups(imt_sandbox) == 0


def test_imt_does_not_generate_missing_invoices(api, imt, imt_sandbox):
    # IMT's invoices arrive by file: no invoice-on-demand, no partner call.
    response = lookup(api, 1367, IMT_SAMPLE)
    assert response.status_code == 404
    assert response.json()["code"] == "invoice_not_found"
    assert lookups(imt_sandbox) == 0


# --- not found and the second factor -----------------------------------------


def test_not_found_and_a_wrong_zip_get_the_same_answer(api, peoria, citizenserve_sandbox):
    peoria.lookup_requires_zip = True
    peoria.save(update_fields=["lookup_requires_zip"])
    missing = lookup(api, 2249, "PBL99-999999", zip="85345")
    wrong_zip = lookup(api, 2249, PEORIA_SAMPLE, zip="90210")
    no_zip = lookup(api, 2249, PEORIA_SAMPLE)
    assert missing.status_code == wrong_zip.status_code == no_zip.status_code == 404
    assert missing.json() == {
        "code": "invoice_not_found",
        "message": "No invoice PBL99-999999 for this biller.",
        "extra": {},
    }
    assert wrong_zip.json() == {
        "code": "invoice_not_found",
        "message": f"No invoice {PEORIA_SAMPLE} for this biller.",
        "extra": {},
    }
    assert no_zip.json() == wrong_zip.json()
    right = lookup(api, 2249, PEORIA_SAMPLE, zip="85345-1234")
    assert right.status_code == 200 and right.json()["customer"]["zip"] == "85345"


def test_a_wrong_zip_for_a_known_invoice_makes_no_partner_call(api, imt, imt_sandbox):
    imt.lookup_requires_zip = True
    imt.save(update_fields=["lookup_requires_zip"])
    imt_invoice(imt, zip_code="62701")
    assert lookup(api, 1367, IMT_SAMPLE, zip="10001").status_code == 404
    assert lookups(imt_sandbox) == 0
    assert lookup(api, 1367, IMT_SAMPLE, zip="62701").status_code == 200
    assert lookups(imt_sandbox) == 1


# --- the partner down, slow, or refusing us ------------------------------------


def test_partner_errors_serve_the_last_known_invoice_as_stale(api, imt, imt_sandbox):
    imt_invoice(imt)
    imt_sandbox.set_faults(error_rate=1.0)
    response = lookup(api, 1367, IMT_SAMPLE)
    assert response.status_code == 200
    assert response.json()["stale"] is True
    assert response.json()["balance_due"] == "40.00"


def test_partner_errors_without_a_known_invoice_are_503(api, peoria, citizenserve_sandbox):
    citizenserve_sandbox.set_faults(error_rate=1.0)
    response = lookup(api, 2249, PEORIA_SAMPLE)
    assert response.status_code == 503
    assert response.json()["code"] == "partner_unavailable"
    assert not Invoice.objects.exists()


def test_a_partner_that_is_down_is_503_or_stale(api, imt, imt_sandbox, peoria):
    imt_invoice(imt)
    imt_sandbox.go_down(5)
    assert lookup(api, 1367, IMT_SAMPLE).json()["stale"] is True
    call = PartnerCall.objects.get(biller=imt)
    assert (call.outcome, call.error_code) == ("not_sent", "partner_unavailable")


def test_a_partner_timeout_is_504_or_stale(api, imt, imt_sandbox, peoria, citizenserve_sandbox):
    citizenserve_sandbox.set_faults(timeout_rate=1.0, hang_seconds=1.0)
    response = lookup(api, 2249, PEORIA_SAMPLE)
    assert response.status_code == 504
    assert response.json()["code"] == "partner_timeout"
    imt_invoice(imt)
    imt_sandbox.set_faults(timeout_rate=1.0, hang_seconds=1.0)
    assert lookup(api, 1367, IMT_SAMPLE).json()["stale"] is True


def test_a_malformed_partner_answer_is_not_served(api, peoria, citizenserve_sandbox):
    citizenserve_sandbox.set_faults(malformed_rate=1.0)
    response = lookup(api, 2249, PEORIA_SAMPLE)
    assert response.status_code in (502, 503)
    assert not Invoice.objects.exists()


def test_refused_credentials_are_502_and_logged_for_solutions_engineers(
    api, imt, imt_sandbox, caplog
):
    imt_invoice(imt)
    imt_sandbox.set_faults(auth_fail=True)
    with caplog.at_level(logging.ERROR, logger="partners.rtdr"):
        response = lookup(api, 1367, IMT_SAMPLE)
    assert response.status_code == 502
    assert response.json()["code"] == "partner_auth_failed"
    call = PartnerCall.objects.get(biller=imt, error_code="partner_auth_failed")
    assert call.exchange["request_headers"]["X-Integrator-ID"] == "***"
    assert "test-imt-integrator" not in str(call.exchange)
    assert any("refused the credentials of biller 1367" in r.getMessage() for r in caplog.records)


def test_a_partner_record_that_breaks_the_mapping_is_refused(api, peoria, citizenserve_sandbox):
    partner_change(citizenserve_sandbox, PEORIA_SAMPLE, totalamountdue="lots")
    response = lookup(api, 2249, PEORIA_SAMPLE)
    assert response.status_code == 502
    assert response.json()["code"] == "partner_bad_record"
    call = PartnerCall.objects.get(error_code="partner_bad_record")
    assert "FileSpecID 13 TotalAmountDue: 'lots' is not an amount" in call.message
    assert not Invoice.objects.exists()


def test_a_nul_in_a_partner_record_is_served_as_a_space(api, peoria, citizenserve_sandbox):
    # PostgreSQL's text and jsonb hold no NUL: stored as it came, it was a 500 there.
    partner_change(
        citizenserve_sandbox, PEORIA_SAMPLE, customername="JOSE\x00SALAZAR", description="A\x00B"
    )

    response = lookup(api, 2249, PEORIA_SAMPLE)

    assert response.status_code == 200, response.content
    assert response.json()["customer"]["name"] == "JOSE SALAZAR"
    invoice = Invoice.objects.get(invoice_number=PEORIA_SAMPLE)
    assert invoice.raw_payload["description"] == "A B"
    call = PartnerCall.objects.get()
    assert "\\u0000" in call.exchange["response_body"]  # the answer as it came, as text


# --- concurrency ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_lookups_of_one_invoice_make_one_partner_call(
    presets, citizenserve_sandbox, settings
):
    from billers.services.presets import biller_preset_load
    from partners.services.sandboxes import biller_point_at_sandbox
    from tests.support.partners import CITIZENSERVE_KEY

    peoria = biller_preset_load(name="peoria", environ={}).biller
    biller_point_at_sandbox(
        biller=peoria, sandbox_url=citizenserve_sandbox.url, credential=CITIZENSERVE_KEY
    )
    _, token = api_client_create(name="concurrent", bids=[2249])
    # A slow partner, so that all four lookups overlap even on a loaded machine.
    settings.ICI_PARTNER_READ_TIMEOUT = 5.0
    citizenserve_sandbox.set_faults(latency_ms=1500)
    answers, barrier = [], threading.Barrier(4)

    def one():
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        try:
            response = client.get(f"/api/v1/billers/2249/invoices/{PEORIA_SAMPLE}")
            answers.append((response.status_code, response.json().get("balance_due")))
        finally:
            connections.close_all()  # this thread's connection (CONN_MAX_AGE keeps it)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(200, "25.00")] * 4
    assert lookups(citizenserve_sandbox) == 1
    assert Invoice.objects.filter(invoice_number=PEORIA_SAMPLE).count() == 1


# --- clients, throttling, errors ------------------------------------------------


def test_every_endpoint_needs_a_token(peoria):
    response = APIClient().get(f"/api/v1/billers/2249/invoices/{PEORIA_SAMPLE}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer ici_not-a-token")
    response = bad.get(f"/api/v1/billers/2249/invoices/{PEORIA_SAMPLE}")
    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")


def test_a_client_of_one_biller_gets_404_for_another(peoria, imt, citizenserve_sandbox):
    imt_invoice(imt)
    _, token = api_client_create(name="peoria-only", bids=[2249])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for url in (
        f"/api/v1/billers/1367/invoices/{IMT_SAMPLE}",
        f"/api/v1/billers/1367/invoices/{IMT_SAMPLE}/pdf",
        "/api/v1/billers/4242/invoices/X",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "biller_not_found"


def test_lookups_are_throttled_per_client(api, peoria, citizenserve_sandbox, monkeypatch):
    # A day-long window, so that no window boundary falls inside the test.
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "rtdr", "3/day")
    codes = [lookup(api, 2249, PEORIA_SAMPLE).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    body = lookup(api, 2249, PEORIA_SAMPLE).json()
    assert body["code"] == "throttled" and body["extra"]["retry_after_seconds"] > 0
    # Another client is not slowed by the first.
    _, token = api_client_create(name="other", bids=[2249])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert lookup(other, 2249, PEORIA_SAMPLE).status_code == 200


@pytest.mark.parametrize(
    ("number", "params", "code"),
    [
        ("X" * 101, {}, "invalid_invoice_number"),
        ("%20", {}, "invalid_invoice_number"),
        ("PBL%0A19", {}, "invalid_invoice_number"),
        (PEORIA_SAMPLE, {"zip": "9" * 21}, "invalid_zip"),
    ],
)
def test_what_cannot_be_an_invoice_number_is_refused_before_any_partner_call(
    api, peoria, citizenserve_sandbox, number, params, code
):
    response = api.get(f"/api/v1/billers/2249/invoices/{number}", params)
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert lookups(citizenserve_sandbox) == 0


def test_unknown_api_paths_answer_json(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- bill PDF -------------------------------------------------------------------


def test_the_imt_bill_pdf_is_streamed(api, imt, imt_sandbox):
    imt_invoice(imt)
    response = api.get(f"/api/v1/billers/1367/invoices/{IMT_SAMPLE}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.streaming
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_bill_pdf_the_partner_does_not_have_is_404(api, imt, imt_sandbox, peoria):
    imt_invoice(imt, number="IMT-NOT-THERE")
    response = api.get("/api/v1/billers/1367/invoices/IMT-NOT-THERE/pdf")
    assert (response.status_code, response.json()["code"]) == (404, "invoice_not_found")
    lookup(api, 2249, PEORIA_SAMPLE)
    response = api.get(f"/api/v1/billers/2249/invoices/{PEORIA_SAMPLE}/pdf")
    assert (response.status_code, response.json()["code"]) == (404, "bill_not_available")


def test_the_bill_pdf_needs_the_second_factor_too(api, imt, imt_sandbox):
    imt.lookup_requires_zip = True
    imt.save(update_fields=["lookup_requires_zip"])
    imt_invoice(imt)
    assert api.get(f"/api/v1/billers/1367/invoices/{IMT_SAMPLE}/pdf").status_code == 404
    ok = api.get(f"/api/v1/billers/1367/invoices/{IMT_SAMPLE}/pdf", {"zip": "62701"})
    assert ok.status_code == 200


def test_configuration_is_cached_for_a_few_seconds_then_read_again(
    api, imt, imt_sandbox, settings, monkeypatch
):
    # With the cache on, a biller change reaches a process within
    # ICI_CONFIG_CACHE_SECONDS; clearing (as time passing does) applies it.
    from icintegrations import memo

    settings.ICI_CONFIG_CACHE_SECONDS = 30
    memo.clear_all()
    imt_invoice(imt)
    assert lookup(api, 1367, IMT_SAMPLE).status_code == 200
    imt.is_active = False
    imt.save(update_fields=["is_active"])
    assert lookup(api, 1367, IMT_SAMPLE).status_code == 200  # still cached
    now = time.monotonic()
    monkeypatch.setattr(memo.time, "monotonic", lambda: now + 31)
    assert lookup(api, 1367, IMT_SAMPLE).status_code == 404
    memo.clear_all()
