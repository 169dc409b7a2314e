"""/healthz, /readyz and /metrics: what a load balancer, an orchestrator and
Prometheus see."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from icintegrations import health
from invoicefiles.models import InvoiceFile, InvoiceFileStatus
from payments.models import CircuitBreaker, CredentialHold, Delivery, DeliveryStatus
from tests.billers.factories import CustomerFactory, InvoiceFactory
from tests.invoicefiles.factories import InvoiceFileFactory
from tests.payments.factories import DeliveryFactory

TOKEN = "metrics-token-for-the-tests"


@pytest.fixture
def token(settings):
    settings.ICI_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client=None) -> dict[tuple[str, tuple], float]:
    """/metrics with the token, parsed: {(sample name, sorted labels): value}."""
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- liveness and readiness -------------------------------------------------------


def test_healthz_answers_without_touching_the_database():
    # No django_db mark: any query would fail the test. The database is broken too.
    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError):
        response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_200_when_the_database_and_the_broker_answer():
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_names_the_database_when_it_does_not_answer():
    with mock.patch.object(
        connections["default"], "cursor", side_effect=OperationalError("password for ci=secret")
    ):
        response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert "database" in body["extra"]["failed"]
    assert "secret" not in response.content.decode()  # the error's text stays in the log


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_does_not_answer(monkeypatch):
    def refused():
        raise ConnectionRefusedError("broker down")

    monkeypatch.setitem(health.CHECKS, "broker", refused)

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["extra"] == {"failed": ["broker"]}
    assert "broker" in response.json()["message"]


@pytest.mark.django_db
def test_readyz_pings_the_redis_broker_when_there_is_one(settings):
    # Nothing listens on port 1: the ping is refused at once.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:1/0"}

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["extra"] == {"failed": ["broker"]}


@pytest.mark.django_db
def test_the_probes_answer_over_plain_http_when_ssl_redirects_are_on(settings, token):
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code == 200
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert Client().get("/portal/").status_code == 301


# --- the token -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_metrics_are_refused_without_the_token(token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = Client().get("/metrics", **headers)

    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_metrics_are_off_while_the_token_is_empty(settings):
    settings.ICI_METRICS_TOKEN = ""

    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_metrics_with_the_token_are_prometheus_text(token):
    samples = scrape()

    names = {name for name, _ in samples}
    assert {
        "ici_deliveries", "ici_delivery_oldest_due_age_seconds", "ici_breaker_open",
        "ici_billers_held", "ici_invoice_files_waiting",
    } <= names  # fmt: skip


# --- the database's figures --------------------------------------------------------


@pytest.mark.django_db
def test_the_database_figures_agree_with_the_database(token, presets):
    imt = presets["imt"]
    now = timezone.now()
    DeliveryFactory.create_batch(2, biller=imt, status=DeliveryStatus.POSTED)
    DeliveryFactory(biller=imt, status=DeliveryStatus.DEAD)
    minute = datetime.timedelta(seconds=60)
    DeliveryFactory(biller=imt, status=DeliveryStatus.PENDING, next_attempt_at=now - minute)
    DeliveryFactory(biller=imt, status=DeliveryStatus.PENDING, next_attempt_at=now + minute)
    InvoiceFileFactory.create_batch(2, biller=imt, status=InvoiceFileStatus.QUEUED)
    InvoiceFileFactory(biller=imt, status=InvoiceFileStatus.PROCESSING, started_at=now)
    InvoiceFileFactory(biller=imt, status=InvoiceFileStatus.DONE)
    CircuitBreaker.objects.create(
        partner="IMT", failures=5, open_until=now + datetime.timedelta(minutes=2)
    )
    CircuitBreaker.objects.create(
        partner="CitizenServe", failures=0, open_until=now - datetime.timedelta(minutes=2)
    )
    CredentialHold.objects.create(biller=imt, partner="IMT", since=now, held=1)

    samples = scrape()

    for status in DeliveryStatus.values:
        expected = Delivery.objects.filter(status=status).count()
        assert value(samples, "ici_deliveries", status=status) == expected, status
    assert value(samples, "ici_deliveries", status="posted") == 2
    assert value(samples, "ici_deliveries_due") == 1
    assert value(samples, "ici_delivery_oldest_due_age_seconds") == pytest.approx(60, abs=10)
    for status in ("queued", "processing"):
        expected = InvoiceFile.objects.filter(status=status).count()
        assert value(samples, "ici_invoice_files_waiting", status=status) == expected
    assert value(samples, "ici_invoice_files_waiting", status="queued") == 2
    assert value(samples, "ici_breaker_open", partner="IMT") == 1
    assert value(samples, "ici_breaker_open", partner="CitizenServe") == 0
    assert value(samples, "ici_billers_held", partner="IMT") == 1
    assert value(samples, "ici_billers_held", partner="CitizenServe") == 0


@pytest.mark.django_db
def test_no_due_delivery_is_an_age_of_zero(token):
    assert value(scrape(), "ici_delivery_oldest_due_age_seconds") == 0


# --- what this process counted ------------------------------------------------------


@pytest.mark.django_db
def test_a_lookup_is_counted_by_outcome_with_its_partner_call(token, api, imt, fresh_throttles):
    customer = CustomerFactory(biller=imt, account_number="0406", zip="62701")
    InvoiceFactory(
        biller=imt, customer=customer, invoice_number="040620220901",
        total_amount_due=Decimal("50.00"), balance_due=Decimal("40.00"),
        refreshed_at=timezone.now(),
    )  # fmt: skip
    before = scrape()

    # IMT's option 64 is On: the lookup calls the IMT sandbox.
    assert api.get("/api/v1/billers/1367/invoices/040620220901").status_code == 200
    assert api.get("/api/v1/billers/1367/invoices/NOSUCH1").status_code == 404

    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("ici_rtdr_lookups_total", outcome="served") == 1
    assert moved("ici_rtdr_lookups_total", outcome="invoice_not_found") == 1
    assert moved("ici_rtdr_lookup_seconds_count", outcome="served") == 1
    call = {"partner": "IMT", "operation": "invoice_refresh"}
    assert moved("ici_partner_calls_total", **call, outcome="success") == 1
    assert moved("ici_partner_call_seconds_count", **call) == 1
