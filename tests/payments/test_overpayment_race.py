"""Two payments racing for one invoice's balance (issue 12, item 2): together
they exceed it, so exactly one is accepted. The balance check and the insert
hold the invoice row (select_for_update); PostgreSQL only, where two
transactions really run side by side (SQLite's IMMEDIATE transactions take the
write lock at BEGIN and serialise them anyway)."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django.test import Client

from billers.services.api_clients import api_client_create
from payments.models import Payment
from payments.services import payments as payment_service
from tests.support.payments import hub_invoice, payment_body

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="set DATABASE_URL to a PostgreSQL database to test it",
)


def race(invoice, token, amounts):
    """Send the payments at once, from one thread each; their status codes."""
    answers, barrier = [], threading.Barrier(len(amounts))

    def one(amount):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        try:
            response = client.post(
                f"/api/v1/billers/{invoice.biller.bid}/payments",
                payment_body(invoice, amount=amount),
                content_type="application/json",
            )
            answers.append((response.status_code, response.json().get("code")))
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=one, args=(amount,)) for amount in amounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(answers, key=lambda answer: answer[0])


@pytest.fixture
def slow_check(monkeypatch):
    """Widen the window between reading the open balance and writing the payment,
    so that without the lock both requests read the balance before either writes."""
    read = payment_service.invoice_open_balance

    def slow(**kwargs):
        balance = read(**kwargs)
        time.sleep(0.5)
        return balance

    monkeypatch.setattr(payment_service, "invoice_open_balance", slow)
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payments_over_the_balance_end_with_one_accepted(
    peoria, citizenserve_sandbox, slow_check
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-710001", balance="100.00")
    _, token = api_client_create(name="racing", bids=[2249])

    answers = race(invoice, token, ["60.00", "60.00"])

    assert answers == [(202, None), (422, "amount_exceeds_balance")]
    assert [str(p.amount) for p in Payment.objects.all()] == ["60.00"]


@pytest.mark.django_db(transaction=True)
def test_without_the_row_lock_both_would_be_accepted(
    peoria, citizenserve_sandbox, slow_check, monkeypatch
):
    """The race test can fail: take the lock away, and both payments get in."""
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-710002", balance="100.00")
    _, token = api_client_create(name="racing", bids=[2249])

    answers = race(invoice, token, ["60.00", "60.00"])

    assert answers == [(202, None), (202, None)]
    assert Payment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_payment_sent_twice_at_once_is_one_payment(
    peoria, citizenserve_sandbox, slow_check
):
    """Idempotency under the lock: the one that waited finds the other's payment
    and answers with it, never amount_exceeds_balance."""
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-710003", balance="100.00")
    _, token = api_client_create(name="racing", bids=[2249])
    body = payment_body(invoice, amount="100.00")
    answers, barrier = [], threading.Barrier(2)

    def one():
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/billers/2249/payments", body, content_type="application/json"
            )
            answers.append((response.status_code, response.json()["payment_guid"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [(202, body["payment_guid"])] * 2
    assert Payment.objects.count() == 1
