"""Every answer under /api/ is JSON, Django's own ones too (404, 405, 400, 500),
and every response carries a request id that the logs carry as well."""

import logging
import uuid

import pytest
from django.test import Client

from icintegrations.middleware import RequestIdFilter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

PAYMENT = f"/api/v1/billers/2249/payments/{uuid.uuid4()}"


def answer(response):
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()["code"]


class Exploding:
    """A middleware that fails for every request (a bug outside any view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise RuntimeError("boom in a middleware")


@pytest.fixture
def collected():
    """Records of the root logger, through the request id filter, as the console sees them."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)
    yield records
    logging.getLogger().removeHandler(handler)


# --- 404 and 405 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here",
        "/api/v2/billers/2249/payments",
        "/api/v1/billers/not-a-number/payments",
        "/api/v1/billers/2249/payments/",  # a slash too many: no redirect for a POST
        "/api/",
    ],
)
def test_an_unknown_api_path_is_a_json_404_for_any_method(api, path):
    for method in (api.get, api.post, api.delete):
        response = method(path)

        assert answer(response) == (404, "not_found")
        assert response["X-Request-ID"]


def test_an_unknown_path_without_credentials_is_a_json_404_too(client):
    assert answer(client.get("/api/v1/nothing-here")) == (404, "not_found")


def test_a_method_the_route_does_not_take_is_a_json_405(api):
    response = api.delete("/api/v1/billers/2249/payments")

    assert answer(response) == (405, "method_not_allowed")


def test_the_schema_and_the_docs_still_answer(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200 and b"openapi" in schema.content
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_the_docs_without_their_slash_are_redirected_there(client):
    response = client.get("/api/docs")

    assert response.status_code == 301
    assert response["Location"] == "/api/docs/"


def test_outside_the_api_a_404_is_still_a_page(client):
    response = client.get("/portal/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- 400 from Django -------------------------------------------------------------------


def test_a_host_django_refuses_is_a_json_400_under_the_api(client):
    response = client.get("/api/v1/billers/2249/payments", HTTP_HOST="evil.example")

    assert answer(response) == (400, "malformed_request")


# --- 500: the last resort --------------------------------------------------------------


def test_a_bug_in_a_view_is_a_json_500_with_the_request_id_and_a_logged_traceback(
    api, monkeypatch, caplog
):
    def broken(**kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("payments.apis.biller_for_client", broken)

    response = api.get(PAYMENT)

    assert answer(response) == (500, "internal_error")
    request_id = response["X-Request-ID"]
    assert response.json()["extra"] == {"request_id": request_id}
    assert "a bug" not in response.content.decode()
    (logged,) = [r for r in caplog.records if r.name == "icintegrations.requests"]
    assert logged.exc_info[0] is ZeroDivisionError
    assert logged.request_id == request_id


def test_a_bug_outside_any_view_is_a_json_500_under_the_api(settings):
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "tests.icintegrations.test_api_errors.Exploding",
    ]
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/billers/2249/payments", HTTP_X_REQUEST_ID="trace-42")

    assert answer(response) == (500, "internal_error")
    assert response.json()["extra"] == {"request_id": "trace-42"}
    assert response["X-Request-ID"] == "trace-42"


# --- the request id --------------------------------------------------------------------


def test_a_printable_request_id_is_kept_and_echoed(api):
    response = api.get(PAYMENT, HTTP_X_REQUEST_ID="payer-site/7f3a 2026-12-05")

    assert answer(response) == (404, "payment_not_found")
    assert response["X-Request-ID"] == "payer-site/7f3a 2026-12-05"


@pytest.mark.parametrize("given", ["", "x" * 129, "tab\there", "caf\u00e9"])
def test_a_missing_or_unfit_request_id_is_replaced_by_a_fresh_one(api, given):
    response = api.get(PAYMENT, HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] != given
    assert len(response["X-Request-ID"]) == 32
    int(response["X-Request-ID"], 16)


def test_every_response_has_its_own_request_id(client):
    first = client.get("/api/v1/nothing-here")["X-Request-ID"]
    second = client.get("/portal/nothing-here/")["X-Request-ID"]

    assert first != second


def test_log_lines_written_during_a_request_carry_its_id(api, monkeypatch, collected):
    def logging_lookup(**kwargs):
        logging.getLogger("payments.apis").warning("looking the biller up")
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("payments.apis.biller_for_client", logging_lookup)

    response = api.get(PAYMENT, HTTP_X_REQUEST_ID="trace-7")

    mine = [r for r in collected if r.getMessage() == "looking the biller up"]
    assert [r.request_id for r in mine] == ["trace-7"]
    assert response.status_code == 500


def test_a_log_line_outside_a_request_has_a_dash(collected):
    logging.getLogger("icintegrations").warning("no request here")

    assert [r.request_id for r in collected if r.getMessage() == "no request here"] == ["-"]
