"""Structured logs: JSON lines with the request id, carried from the web request
into the worker's task; partner-call lines with the biller, partner and outcome."""

import contextvars
import io
import json
import logging

import pytest
from django.utils import timezone

from icintegrations.logformat import JsonFormatter
from icintegrations.middleware import RequestIdFilter, request_id_bound
from partners.connectors.citizenserve import CitizenServeConnector
from payments.models import Delivery, DeliveryKind, DeliveryStatus, PaymentStatus
from payments.services.delivery import deliveries_sweep, delivery_request_id
from payments.tasks import delivery_run_task
from tests.support.payments import hub_invoice, pay, payment_body, payment_of, pump


class _Lines:
    """A handler as the settings make it (request id filter, JSON formatter)."""

    def __init__(self):
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.addFilter(RequestIdFilter())
        self.handler.setFormatter(JsonFormatter())

    def __enter__(self):
        logging.getLogger().addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self.handler)

    def parsed(self):
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def lines():
    with _Lines() as captured:
        yield captured


def test_a_json_line_parses_and_carries_the_request_id(lines):
    log = logging.getLogger("icintegrations.test")
    with request_id_bound("req-abc"):
        log.warning("hello %s", "world", extra={"bid": 2249})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second = lines.parsed()[-2:]
    assert first["message"] == "hello world"
    assert first["request_id"] == "req-abc"
    assert (first["level"], first["logger"]) == ("WARNING", "icintegrations.test")
    assert first["bid"] == 2249
    assert second["request_id"] == "-"
    assert "ValueError: boom" in second["exception"]


def test_a_requests_lines_carry_its_x_request_id(client, lines, db, caplog):
    with caplog.at_level(logging.INFO):
        response = client.get("/api/v1/nowhere", HTTP_X_REQUEST_ID="req-from-caller")
    assert response["X-Request-ID"] == "req-from-caller"
    ids = {line["request_id"] for line in lines.parsed() if line["logger"] == "django.request"}
    assert ids == {"req-from-caller"}


@pytest.mark.django_db(transaction=True)  # on_commit runs inside the request, as in production
def test_the_delivery_task_of_a_payment_logs_with_the_requests_id(
    api, peoria, citizenserve_sandbox, monkeypatch, lines
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-800001", balance="100.00")
    enqueued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda func, *args, **kwargs: enqueued.append((args, kwargs))
    )
    response = api.post(
        f"/api/v1/billers/{invoice.biller.bid}/payments",
        payment_body(invoice, amount="40.00"),
        format="json",
        HTTP_X_REQUEST_ID="pay-req-42",
    )
    assert response.status_code == 202
    [(args, kwargs)] = enqueued
    assert kwargs["request_id"] == "pay-req-42"

    # The worker: another process, so no request id of its own.
    contextvars.Context().run(
        delivery_run_task, *args, **{k: v for k, v in kwargs.items() if k != "q_options"}
    )

    calls = [line for line in lines.parsed() if line["message"].startswith("Partner call")]
    assert calls, "the worker logged its partner calls"
    assert {line["request_id"] for line in calls} == {"pay-req-42"}
    post = [line for line in calls if line["operation"] == "post"][-1]
    assert (post["bid"], post["partner"], post["outcome"]) == (2249, "CitizenServe", "success")


@pytest.mark.django_db(transaction=True)
def test_a_retry_enqueued_by_the_sweep_logs_with_the_payments_request_id(
    api, peoria, citizenserve_sandbox, monkeypatch, lines
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-800002", balance="100.00")
    enqueued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda func, *args, **kwargs: enqueued.append((args, kwargs))
    )

    def worker_runs(task):
        args, kwargs = task
        kwargs = {k: v for k, v in kwargs.items() if k != "q_options"}
        return contextvars.Context().run(delivery_run_task, *args, **kwargs)

    # Given a payment taken with X-Request-ID abc, whose first try fails.
    citizenserve_sandbox.set_faults(error_rate=1.0)  # 503 to the read before the post
    response = api.post(
        f"/api/v1/billers/{invoice.biller.bid}/payments",
        payment_body(invoice, amount="40.00"),
        format="json",
        HTTP_X_REQUEST_ID="abc",
    )
    assert response.status_code == 202
    assert response["X-Request-ID"] == "abc"
    delivery = Delivery.objects.get(payment__payment_guid=response.json()["payment_guid"])
    assert delivery.request_id == "abc"
    assert worker_runs(enqueued.pop()).startswith("the read before the post failed")

    # When the partner is back and the sweep (outside any request) enqueues the retry.
    citizenserve_sandbox.set_faults(error_rate=0.0)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    first_lines = len(lines.parsed())
    assert contextvars.Context().run(deliveries_sweep) == 1
    [retry] = enqueued
    assert retry[1]["request_id"] == "abc"
    worker_runs(retry)

    # Then the retry's lines, its post included, carry the payment's request id.
    retry_lines = lines.parsed()[first_lines:]
    calls = [line for line in retry_lines if line["message"].startswith("Partner call")]
    assert [line["operation"] for line in calls][-1] == "post"
    assert calls[-1]["outcome"] == "success"
    assert {line["request_id"] for line in calls} == {"abc"}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.POSTED


@pytest.mark.django_db(transaction=True)
def test_a_reversal_the_partner_can_take_is_delivered_under_the_voids_request_id(
    api, peoria, citizenserve_sandbox, monkeypatch
):
    # Neither document's partner takes reversals yet: a connector that would.
    monkeypatch.setattr(CitizenServeConnector, "supports_reversal", True)
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-800003", balance="100.00")
    payment = payment_of(pay(api, invoice, payment_source="Web Eck", amount="40.00"))
    pump()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.POSTED
    enqueued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda func, *args, **kwargs: enqueued.append((args, kwargs))
    )

    response = api.post(
        f"/api/v1/billers/2249/payments/{payment.payment_guid}/void",
        {"reason": "Payer asked"},
        format="json",
        HTTP_X_REQUEST_ID="void-req-9",
    )

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "pending"
    delivery = Delivery.objects.get(kind=DeliveryKind.REVERSAL, payment=payment)
    assert delivery.request_id == "void-req-9"
    [(_, kwargs)] = enqueued
    assert kwargs["request_id"] == "void-req-9"


def test_a_delivery_taken_outside_a_request_stores_no_request_id():
    assert delivery_request_id() is None
    with request_id_bound("req-7"):
        assert delivery_request_id() == "req-7"


@pytest.mark.django_db
def test_an_rtdr_partner_call_line_has_bid_partner_and_outcome(
    api, peoria, citizenserve_sandbox, lines
):
    response = api.get("/api/v1/billers/2249/invoices/PBL19-010007", HTTP_X_REQUEST_ID="rtdr-1")
    assert response.status_code == 200
    calls = [line for line in lines.parsed() if line["message"].startswith("Partner call")]
    assert calls
    line = calls[-1]
    assert (line["bid"], line["partner"], line["request_id"]) == (2249, "CitizenServe", "rtdr-1")
    assert line["outcome"] == "success"
    text = json.dumps(calls)
    assert "password" not in text.lower() and "key=" not in text.lower()


def test_ici_log_format_json_makes_every_line_a_json_object():
    import subprocess
    import sys

    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('payments').warning('one'); logging.getLogger('x').info('two')"
    )
    env = {
        **__import__("os").environ,
        "ICI_LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "icintegrations.settings_test",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    parsed = [json.loads(line) for line in done.stderr.splitlines()]
    assert [p["message"] for p in parsed][-2:] == ["one", "two"]
    assert all(p["request_id"] == "-" for p in parsed)
