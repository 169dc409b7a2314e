"""The Data Pump against the partner sandboxes over real HTTP: each outcome, the
backoff, the dead letter, reconciliation, the review queue, the breaker, and a
worker lost mid-call."""

import datetime
import json
import time
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from payments.models import (
    AttemptKind,
    CircuitBreaker,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    PaymentStatus,
)
from payments.services.delivery import backoff_seconds, deliveries_sweep, delivery_run
from tests.support.payments import hub_invoice, pay, payment_of, pump

pytestmark = pytest.mark.django_db


def delivery_of(payment) -> Delivery:
    return Delivery.objects.get(payment=payment)


def ledger_payments(sandbox, payment):
    return sandbox.ledger.payments_for(str(payment.payment_guid))


# --- success, and the wire format of each partner -------------------------------


def test_a_peoria_payment_is_posted_once_to_citizenserve_in_its_wire_format(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900001", balance="100.00")
    response = pay(
        api, invoice, amount="40.00", payment_source="IVR Eck", paid_at="2026-11-20T10:15:00-07:00"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"

    pump()

    payment = payment_of(response)
    assert payment.status == PaymentStatus.POSTED
    (applied,) = ledger_payments(citizenserve_sandbox, payment)
    assert payment.receipt_number == applied["receipt"]
    assert applied["body"] == {
        "installationID": 24,
        "licenseNumber": "PBL26-900001",
        "paymentAmount": "40.00",
        "paymentDate": "11/20/2026",
        "paymentType": "ACH",
        "paymentReference": "1234123",
        "paymentNote": str(payment.payment_guid),
        "receivedFrom": "Jose L Salazar",
    }
    assert citizenserve_sandbox.ledger.get_invoice("PBL26-900001")["balancedue"] == 60


def test_an_imt_payment_is_posted_once_to_imt_in_its_wire_format(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT9000001", balance="50.00", account="0406")
    response = pay(api, invoice, amount="50.00", payment_source="Web CC")

    pump()

    payment = payment_of(response)
    assert payment.status == PaymentStatus.POSTED
    (applied,) = ledger_payments(imt_sandbox, payment)
    assert applied["body"]["customer"] == "0406"
    assert applied["body"]["invoice_number"] == "IMT9000001"
    assert applied["body"]["transaction_id"] == str(payment.payment_guid)
    assert applied["body"]["amount"] == "50.00"
    assert applied["body"]["payment_method"] == "credit"
    assert payment.receipt_number == applied["receipt"]
    assert imt_sandbox.ledger.get_invoice("IMT9000001")["paid_amount"] == "50.00"


def test_every_call_is_an_attempt_row_with_secrets_redacted(api, peoria, citizenserve_sandbox):
    from tests.support.partners import CITIZENSERVE_KEY

    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900002", balance="10.00")
    response = pay(api, invoice)
    pump()

    attempts = list(DeliveryAttempt.objects.filter(delivery__payment=payment_of(response)))
    assert [a.kind for a in attempts] == [AttemptKind.SNAPSHOT, AttemptKind.POST]
    post = attempts[1]
    assert post.outcome == "success"
    assert post.status_code == 200
    assert post.duration_ms is not None
    assert post.receipt_number
    assert CITIZENSERVE_KEY not in json.dumps(post.exchange)
    assert "PBL26-900002" in post.exchange["request_body"]

    detail = api.get(f"/api/v1/billers/2249/payments/{response.json()['payment_guid']}").json()
    assert detail["status"] == "posted"
    assert [a["kind"] for a in detail["attempts"]] == ["snapshot", "post"]
    assert detail["attempts"][1]["receipt_number"] == post.receipt_number


def test_a_recent_rtdr_lookup_stands_in_for_the_read_before_the_post(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900003", balance="10.00", fresh=True)
    response = pay(api, invoice)
    pump()

    attempts = DeliveryAttempt.objects.filter(delivery__payment=payment_of(response))
    assert [a.kind for a in attempts] == [AttemptKind.POST]
    assert delivery_of(payment_of(response)).snapshot["source"] == "rtdr"


def test_an_rtdr_lookup_older_than_a_post_to_the_invoice_does_not_stand_in(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900012", balance="10.00", fresh=True)
    first = payment_of(pay(api, invoice, amount="4.00"))
    pump()
    second = payment_of(pay(api, invoice, amount="3.00"))
    pump()

    # The lookup was taken before the first post: the second reads the partner first.
    attempts = DeliveryAttempt.objects.filter(delivery__payment=second).order_by("id")
    assert [a.kind for a in attempts] == [AttemptKind.SNAPSHOT, AttemptKind.POST]
    assert delivery_of(first).snapshot == {
        "figure": "10.00", "source": "rtdr", "at": invoice.refreshed_at.isoformat()
    }  # fmt: skip
    assert delivery_of(second).snapshot["source"] == "read"
    assert Decimal(delivery_of(second).snapshot["figure"]) == Decimal("6")
    assert citizenserve_sandbox.ledger.invoices["PBL26-900012"]["balancedue"] == 3


# --- rejected ----------------------------------------------------------------------


def test_a_payment_the_partner_refuses_is_rejected_for_good(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT9000002", balance="50.00", account="0406")
    # The partner's record says another customer: IMT answers 400.
    imt_sandbox.ledger.add_invoice(
        {**imt_sandbox.ledger.get_invoice("IMT9000002"), "customer": "X"}
    )
    response = pay(api, invoice)
    pump()

    payment = payment_of(response)
    assert payment.status == PaymentStatus.REJECTED
    delivery = delivery_of(payment)
    assert delivery.status == DeliveryStatus.REJECTED
    assert delivery.attempts == 1
    assert (
        "Customer does not match"
        in DeliveryAttempt.objects.get(delivery=delivery, kind=AttemptKind.POST).exchange[
            "response_body"
        ]
    )
    assert deliveries_sweep() == 0  # nothing left to do
    assert ledger_payments(imt_sandbox, payment) == []


# --- not sent: backoff, then the dead letter ------------------------------------------


def test_backoff_doubles_with_jitter_up_to_the_cap():
    with override_settings(ICI_PUMP_BACKOFF_BASE=2.0, ICI_PUMP_BACKOFF_CAP=60.0):
        for tries, ceiling in ((1, 2), (2, 4), (3, 8), (4, 16), (5, 32), (6, 60), (12, 60)):
            waits = [backoff_seconds(tries) for _ in range(200)]
            assert all(ceiling / 2 <= w <= ceiling for w in waits)
            assert max(waits) - min(waits) > ceiling / 10  # jittered, not in lockstep


@override_settings(
    ICI_PUMP_BACKOFF_BASE=30.0, ICI_PUMP_MAX_ATTEMPTS=3, ICI_PUMP_BREAKER_THRESHOLD=99
)
def test_a_partner_that_cannot_be_reached_is_retried_with_backoff_then_dead_lettered(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900004", balance="10.00")
    citizenserve_sandbox.stop()  # connection refused: nothing sent
    response = pay(api, invoice)
    payment = payment_of(response)
    delivery = delivery_of(payment)

    assert delivery_run(delivery.pk).startswith("the read before the post failed; not sent")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 10 < wait <= 30
    assert delivery_run(delivery.pk) == "not due, taken, or done"  # not before its time

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    delivery_run(delivery.pk)
    delivery.refresh_from_db()
    assert 25 < (delivery.next_attempt_at - timezone.now()).total_seconds() <= 60  # doubled

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_run(delivery.pk).endswith("dead letter")
    delivery.refresh_from_db()
    payment.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert payment.status == PaymentStatus.FAILED
    assert "Dead letter after 3 tries" in delivery.last_error
    assert deliveries_sweep() == 0


# --- unknown: reconciliation and review ------------------------------------------------


def test_a_timeout_after_the_partner_applied_it_is_confirmed_by_read_back_not_reposted(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900005", balance="100.00")
    response = pay(api, invoice, amount="30.00")
    delivery = delivery_of(payment_of(response))
    citizenserve_sandbox.set_faults(timeout_rate=1.0, hang_seconds=1.0)
    delivery_run(delivery.pk)  # read, then post: applied, then the partner hangs up late
    citizenserve_sandbox.set_faults(timeout_rate=0.0)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING  # the read before the post timed out too
    citizenserve_sandbox.set_faults(timeout_rate=0.0)

    # A clean read, then a post that times out after it was applied.
    delivery_run_with_post_timeout(citizenserve_sandbox, delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RECONCILING
    assert payment_of(response).status == PaymentStatus.PENDING

    assert delivery_run(delivery.pk) == "posted (confirmed by read-back)"
    payment = payment_of(response)
    assert payment.status == PaymentStatus.POSTED
    assert len(ledger_payments(citizenserve_sandbox, payment)) == 1
    assert citizenserve_sandbox.ledger.get_invoice("PBL26-900005")["balancedue"] == 70


def delivery_run_with_post_timeout(sandbox, delivery):
    """Run the delivery with the invoice read fresh by RTDR (no read before the
    post) and the partner timing out every call after applying it."""
    payment = delivery.payment
    invoice = payment.invoice
    invoice.raw_payload = sandbox.ledger.get_invoice(invoice.invoice_number)
    invoice.refreshed_at = timezone.now()
    invoice.refreshed_via = "rtdr_refresh"
    invoice.save()
    DeliveryAttempt.objects.filter(delivery=delivery).update(
        started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    sandbox.set_faults(timeout_rate=1.0, hang_seconds=1.0)
    try:
        return delivery_run(delivery.pk)
    finally:
        sandbox.set_faults(timeout_rate=0.0)


def test_a_5xx_the_partner_did_not_apply_is_read_back_and_posted_again(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT9000003", balance="50.00", fresh=True)
    response = pay(api, invoice)
    delivery = delivery_of(payment_of(response))
    imt_sandbox.set_faults(error_rate=1.0)  # 503 before applying: the hub cannot know that
    assert delivery_run(delivery.pk) == "unknown: reconciling"
    imt_sandbox.set_faults(error_rate=0.0)

    assert delivery_run(delivery.pk) == "not applied: posting again"
    pump()
    payment = payment_of(response)
    assert payment.status == PaymentStatus.POSTED
    assert len(ledger_payments(imt_sandbox, payment)) == 1
    kinds = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("kind", "outcome"))
    assert kinds == [
        ("post", "unknown"),
        ("read_back", "success"),
        ("snapshot", "success"),
        ("post", "success"),
    ]


def test_a_read_back_that_matches_neither_goes_to_review(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT9000004", balance="50.00", fresh=True)
    response = pay(api, invoice)
    delivery = delivery_of(payment_of(response))
    imt_sandbox.set_faults(error_rate=1.0)
    delivery_run(delivery.pk)
    imt_sandbox.set_faults(error_rate=0.0)
    # Meanwhile the biller took 20.00 at its counter.
    record = imt_sandbox.ledger.get_invoice("IMT9000004")
    imt_sandbox.ledger.add_invoice({**record, "paid_amount": "20.00", "amount_due": "30.00"})

    assert delivery_run(delivery.pk) == "review: the read-back does not match"
    payment = payment_of(response)
    assert payment.status == PaymentStatus.REVIEW
    delivery.refresh_from_db()
    assert "was 0.00 before the post, is 20.00 now" in delivery.last_error
    assert ledger_payments(imt_sandbox, payment) == []  # never re-posted blindly
    assert deliveries_sweep() == 0


@override_settings(ICI_PUMP_MAX_READS=2, ICI_PUMP_BREAKER_THRESHOLD=99)
def test_an_unknown_outcome_that_cannot_be_read_back_goes_to_review(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT9000005", balance="50.00", fresh=True)
    response = pay(api, invoice)
    delivery = delivery_of(payment_of(response))
    imt_sandbox.set_faults(error_rate=1.0)  # every call: 503
    delivery_run(delivery.pk)
    assert delivery_run(delivery.pk) == "read-back failed: try again later"
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_run(delivery.pk) == "review: the read-back failed"
    assert payment_of(response).status == PaymentStatus.REVIEW
    assert imt_sandbox.ledger.requests.get("payment") == 1  # posted once, never again


# --- a worker lost mid-call ---------------------------------------------------------------


def test_a_delivery_whose_worker_died_mid_post_is_swept_and_reconciled(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900006", balance="100.00")
    response = pay(api, invoice, amount="25.00")
    payment = payment_of(response)
    delivery = delivery_of(payment)
    # What a worker killed mid-post leaves: the snapshot and an attempt without an
    # outcome, a lease that ran out, and the partner having applied the payment.
    from partners.connectors.registry import connector_build
    from partners.selectors import connector_config
    from payments.services.delivery import delivery_claim, payment_request

    lease = delivery_claim(delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(
        snapshot={"figure": "100.00", "source": "read"},
        lease_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    DeliveryAttempt.objects.create(delivery=delivery, kind="post", started_at=timezone.now())
    connector_build(connector_config(biller=peoria)).post_payment(
        payment_request(payment, time_zone=peoria.time_zone)
    )
    assert lease.token

    # The sweep's task (run inline in tests) finds the post's outcome unknown...
    assert deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RECONCILING
    # ...and the read-back finds the payment applied: not posted again.
    assert pump() == ["posted (confirmed by read-back)"]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.POSTED
    assert len(ledger_payments(citizenserve_sandbox, payment)) == 1
    lost = DeliveryAttempt.objects.get(delivery=delivery, kind="post")
    assert (lost.outcome, lost.error_code) == ("unknown", "worker_lost")


def test_a_leased_delivery_is_left_alone_until_its_lease_runs_out(
    api, peoria, citizenserve_sandbox
):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900007", balance="10.00")
    delivery = delivery_of(payment_of(pay(api, invoice)))
    from payments.services.delivery import delivery_claim

    delivery_claim(delivery.pk)
    assert delivery_run(delivery.pk) == "not due, taken, or done"
    assert deliveries_sweep() == 0


def test_only_one_delivery_per_invoice_is_in_flight(api, peoria, citizenserve_sandbox):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900008", balance="100.00")
    first = delivery_of(payment_of(pay(api, invoice, amount="10.00")))
    second = delivery_of(payment_of(pay(api, invoice, amount="20.00")))
    from payments.services.delivery import delivery_claim

    delivery_claim(first.pk)
    assert delivery_run(second.pk) == "waiting: another delivery of this invoice is busy"
    second.refresh_from_db()
    assert second.status == DeliveryStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_only_one_delivery_per_invoice_is_in_flight_as_workers_run_it(
    api, peoria, citizenserve_sandbox, monkeypatch
):
    """As in a worker: no transaction around the claim, whose conflict with the
    busy invoice must leave the connection usable."""
    from payments.services.delivery import delivery_claim
    from payments.services.delivery import delivery_post as _post

    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900013", balance="100.00")
    first = delivery_of(payment_of(pay(api, invoice, amount="10.00")))
    second = delivery_of(payment_of(pay(api, invoice, amount="20.00")))

    lease = delivery_claim(first.pk)
    assert delivery_run(second.pk) == "waiting: another delivery of this invoice is busy"
    assert _post(lease) == "posted"
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())
    assert delivery_run(second.pk) == "posted"
    assert [p["amount"] for p in citizenserve_sandbox.ledger.payments] == ["10.00", "20.00"]


# --- the circuit breaker --------------------------------------------------------------------


@override_settings(
    ICI_PUMP_BREAKER_THRESHOLD=3, ICI_PUMP_BREAKER_COOLDOWN=30.0, ICI_PUMP_BACKOFF_BASE=0.0
)
def test_the_breaker_holds_a_down_partner_without_slowing_the_other(
    api, peoria, citizenserve_sandbox, imt, imt_sandbox
):
    peoria_invoices = [
        hub_invoice(peoria, citizenserve_sandbox, f"PBL26-91000{n}", balance="10.00")
        for n in range(5)
    ]
    imt_invoice = hub_invoice(imt, imt_sandbox, "IMT9100001", balance="50.00", fresh=True)
    peoria_payments = [payment_of(pay(api, invoice)) for invoice in peoria_invoices]
    citizenserve_sandbox.go_down(1.5)

    for payment in peoria_payments[:3]:
        delivery_run(delivery_of(payment).pk)
    breaker = CircuitBreaker.objects.get(partner="CitizenServe")
    assert breaker.open_until > timezone.now() + datetime.timedelta(seconds=25)

    # Held: no call, no attempt counted, next try after the cool-down.
    held = delivery_of(peoria_payments[3])
    assert delivery_run(held.pk) == "held: the CitizenServe breaker is open"
    held.refresh_from_db()
    assert held.attempts == 0
    assert held.next_attempt_at >= breaker.open_until
    assert not DeliveryAttempt.objects.filter(delivery=held).exists()

    # IMT is not held.
    imt_payment = payment_of(pay(api, imt_invoice))
    assert delivery_run(delivery_of(imt_payment).pk) == "posted"

    # After the cool-down one failure opens it again, for twice as long.
    CircuitBreaker.objects.filter(partner="CitizenServe").update(open_until=timezone.now())
    Delivery.objects.filter(pk=held.pk).update(next_attempt_at=timezone.now())
    delivery_run(held.pk)
    breaker.refresh_from_db()
    assert breaker.open_until > timezone.now() + datetime.timedelta(seconds=55)

    # The partner is back: the next probe succeeds and closes it.
    deadline = time.monotonic() + 10
    while "down" in repr(citizenserve_sandbox) and time.monotonic() < deadline:
        time.sleep(0.1)
    CircuitBreaker.objects.filter(partner="CitizenServe").update(open_until=timezone.now())
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    pump()
    breaker.refresh_from_db()
    assert (breaker.failures, breaker.open_until) == (0, None)
    for payment in peoria_payments:
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.POSTED
        assert len(ledger_payments(citizenserve_sandbox, payment)) == 1


# --- the sweep ------------------------------------------------------------------------------


@override_settings(ICI_PUMP_REQUEUE_SECONDS=120.0)
def test_the_sweep_enqueues_a_waiting_delivery_once_and_again_when_its_task_is_lost(
    api, peoria, citizenserve_sandbox, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, pk, **kwargs: enqueued.append(pk))
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900009", balance="10.00")
    delivery = delivery_of(payment_of(pay(api, invoice)))  # its task: not captured (no commit)

    assert deliveries_sweep() == 1  # never enqueued: the sweep triggers it
    assert deliveries_sweep() == 0  # its task is waiting in the queue
    Delivery.objects.filter(pk=delivery.pk).update(
        enqueued_at=timezone.now() - datetime.timedelta(seconds=121)
    )
    assert deliveries_sweep() == 1  # the task was lost (a worker killed, Redis restarted)
    assert enqueued == [delivery.pk, delivery.pk]


def test_a_task_the_broker_refuses_is_enqueued_again_by_the_next_sweep(
    api, peoria, citizenserve_sandbox, monkeypatch
):
    enqueued = []

    def broker_down(func, pk, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("django_q.tasks.async_task", broker_down)
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900011", balance="10.00")
    delivery = delivery_of(payment_of(pay(api, invoice)))
    assert deliveries_sweep() == 1  # tried, and refused by the broker

    monkeypatch.setattr("django_q.tasks.async_task", lambda func, pk, **kw: enqueued.append(pk))
    assert deliveries_sweep() == 1  # not left waiting ICI_PUMP_REQUEUE_SECONDS
    assert enqueued == [delivery.pk]


def test_the_sweep_leaves_a_partner_with_an_open_breaker_alone(
    api, peoria, citizenserve_sandbox, monkeypatch
):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900010", balance="10.00")
    pay(api, invoice)
    CircuitBreaker.objects.create(
        partner="CitizenServe", open_until=timezone.now() + datetime.timedelta(seconds=30)
    )
    assert deliveries_sweep() == 0
    CircuitBreaker.objects.update(open_until=timezone.now())
    assert deliveries_sweep() == 1
