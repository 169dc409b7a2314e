"""Issue 15, items 3, 4 and 6: bad JSON bodies are answered with a JSON 400 or
413 naming what is wrong, never a 500 or Django's HTML page, and nothing is
written. The requests are the ones the issue was filed with."""

import json

import pytest

from payments.models import Delivery, Payment, Reversal
from tests.support.invoicefiles import imt_file, imt_row
from tests.support.payments import hub_invoice, pay, payment_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

PAYMENTS = "/api/v1/billers/2249/payments"
MB = 1024 * 1024


@pytest.fixture
def invoice(peoria, citizenserve_sandbox):
    return hub_invoice(peoria, citizenserve_sandbox, "PBL26-815001", balance="100.00")


@pytest.fixture
def void_url(api, invoice):
    guid = pay(api, invoice, amount="30.00").json()["payment_guid"]
    return f"{PAYMENTS}/{guid}/void"


def post_raw(api, url, body: bytes | str):
    return api.post(url, data=body, content_type="application/json")


def answer(response):
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()["code"]


def nothing_written():
    return not Payment.objects.exists() and not Delivery.objects.exists()


def with_payer_name(invoice, raw_value: str) -> str:
    """A payment body, `payer_name` written as raw JSON text."""
    body = json.dumps(payment_body(invoice, payer_name="PAYER"))
    return body.replace('"PAYER"', raw_value)


# --- item 3: deeply nested JSON ---------------------------------------------------------


def test_100000_levels_of_brackets_to_payments_is_a_400_naming_the_limit(api, invoice):
    response = post_raw(api, PAYMENTS, "[" * 100_000)

    assert answer(response) == (400, "invalid_request")
    assert response.json()["extra"] == {"max_depth": 64}
    assert nothing_written()


def test_100000_levels_of_brackets_to_void_is_a_400_and_voids_nothing(api, void_url):
    response = post_raw(api, void_url, "[" * 100_000)

    assert answer(response) == (400, "invalid_request")
    assert response.json()["extra"] == {"max_depth": 64}
    assert not Reversal.objects.exists()


def test_5000_levels_inside_payer_name_is_a_400_and_nothing_is_written(api, invoice):
    body = with_payer_name(invoice, "[" * 5000 + "]" * 5000)

    response = post_raw(api, PAYMENTS, body)

    assert answer(response) == (400, "invalid_request")
    assert "64" in response.json()["message"]
    assert nothing_written()


def test_nesting_within_the_limit_reaches_the_field_check(api, invoice):
    response = post_raw(api, PAYMENTS, with_payer_name(invoice, "[" * 10 + "]" * 10))

    assert answer(response) == (400, "invalid_request")
    assert "payer_name" in response.json()["extra"]


def test_brackets_inside_a_string_are_text_not_nesting(api, invoice):
    response = post_raw(api, PAYMENTS, with_payer_name(invoice, json.dumps("[{" * 90)))

    assert response.status_code == 202
    assert Payment.objects.get().payer_name == "[{" * 90


def test_unclosed_brackets_within_the_limit_are_a_malformed_request(api, invoice):
    assert answer(post_raw(api, PAYMENTS, "[" * 60)) == (400, "malformed_request")


# --- item 4: strings that are not text ---------------------------------------------------


def test_a_lone_surrogate_in_payment_source_is_a_400_naming_the_field(api, invoice):
    body = json.dumps(payment_body(invoice)).replace('"Web CC"', '"Web CC\\ud800"')

    response = post_raw(api, PAYMENTS, body)

    assert answer(response) == (400, "invalid_request")
    assert "payment_source" in response.json()["extra"]
    assert "payment_source" in response.json()["message"]
    assert nothing_written()


def test_invalid_utf8_in_payer_name_is_a_400_naming_the_field(api, invoice):
    body = with_payer_name(invoice, '"Jos\xff"').encode("latin-1")

    response = post_raw(api, PAYMENTS, body)

    assert answer(response) == (400, "invalid_request")
    assert list(response.json()["extra"]) == ["payer_name"]
    assert nothing_written()


def test_a_lone_surrogate_in_a_key_is_a_400_that_still_renders(api, invoice):
    body = json.dumps(payment_body(invoice)).replace('"payer_name"', '"payer\\udc80"')

    response = post_raw(api, PAYMENTS, body)

    assert answer(response) == (400, "invalid_request")
    assert list(response.json()["extra"]) == ["payer\\udc80"]


def test_a_lone_surrogate_in_a_void_reason_is_a_400(api, void_url):
    response = post_raw(api, void_url, '{"reason": "typo \\udfff"}')

    assert answer(response) == (400, "invalid_request")
    assert list(response.json()["extra"]) == ["reason"]
    assert not Reversal.objects.exists()


# --- item 6: bodies over the limit -------------------------------------------------------


@pytest.mark.parametrize("size", [3 * MB, 10 * MB])
def test_a_json_body_over_the_limit_is_a_413_in_json(api, invoice, size):
    body = with_payer_name(invoice, json.dumps("x" * size))

    response = post_raw(api, PAYMENTS, body)

    assert answer(response) == (413, "request_too_large")
    assert response.json()["extra"] == {"max_bytes": 2621440}
    assert nothing_written()


def test_a_json_body_over_the_limit_to_void_is_a_413(api, void_url):
    response = post_raw(api, void_url, json.dumps({"reason": "x" * (3 * MB)}))

    assert answer(response) == (413, "request_too_large")


def test_an_invoice_file_over_the_json_limit_is_still_taken(api, settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"
    rows = [imt_row(f"INV{n:06}") for n in range(3 * MB // 100)]
    content = imt_file(*rows)
    assert len(content) > 3 * MB

    response = api.post(
        "/api/v1/billers/1367/invoice-files?name=big.txt", data=content, content_type="text/plain"
    )

    assert response.status_code == 202


def test_an_invoice_file_over_its_own_limit_keeps_its_413(api, settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"
    settings.ICI_INVOICE_FILE_MAX_BYTES = 1 * MB

    response = api.post(
        "/api/v1/billers/1367/invoice-files?name=big.txt",
        data=b"x" * (3 * MB),
        content_type="text/plain",
    )

    assert answer(response) == (413, "file_too_large")


@pytest.mark.parametrize("charset", ["utf-16", "utf-32-be"])
def test_deep_nesting_is_refused_in_any_text_charset(api, invoice, charset):
    body = ("[" * 100_000).encode(charset)

    response = api.post(PAYMENTS, data=body, content_type=f"application/json; charset={charset}")

    assert answer(response) == (400, "invalid_request")


def test_a_charset_that_is_not_text_is_a_malformed_request(api, invoice):
    body = json.dumps(payment_body(invoice)).encode()

    response = api.post(PAYMENTS, data=body, content_type="application/json; charset=bz2_codec")

    assert answer(response) == (400, "malformed_request")
