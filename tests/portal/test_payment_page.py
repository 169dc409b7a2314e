"""A payment's page: its facts, where its delivery stands, its calls to the
partner as a timeline, and its reversal."""

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from payments.models import (
    AttemptKind,
    AttemptOutcome,
    DeliveryStatus,
    PaymentMethod,
    PaymentStatus,
    ReversalKind,
    ReversalStatus,
)
from tests.payments.factories import (
    DeliveryAttemptFactory,
    DeliveryFactory,
    PaymentFactory,
    ReversalFactory,
)
from tests.portal.builders import (
    T0,
    at,
    posted_payment,
    reversal_the_partner_refused,
    reversal_to_apply,
)


def _url(payment):
    return reverse(
        "portal:payment",
        kwargs={"bid": payment.biller.bid, "payment_guid": payment.payment_guid},
    )


def _page(portal, payment) -> str:
    response = portal.get(_url(payment))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_payment_and_its_receipt_number(portal, biller):
    payment = posted_payment(
        biller, amount=Decimal("125.40"), service_fee=Decimal("2.95"), payer_name="Jose L Salazar",
        payment_source="IVR Eck", method=PaymentMethod.BANK, approval_code="AP-99",
        invoice_number="LIC-2291", account_number="C-0406",
    )  # fmt: skip

    page = _page(portal, payment)

    for fact in (
        str(payment.payment_guid), "LIC-2291", "C-0406", "Jose L Salazar", "$125.40", "$2.95",
        "Bank (ACH)", "IVR Eck", "AP-99", "2026-11-20 17:15 UTC", "Posted to the partner",
        "RCPT-77812",
    ):  # fmt: skip
        assert fact in page, fact
    assert "Posted to IMT on 2026-11-20 17:15 UTC." in page


def test_the_calls_to_the_partner_are_a_timeline_in_plain_words(portal, biller):
    payment = posted_payment(biller)

    page = _page(portal, payment)

    read = page.index("Read the invoice at IMT before sending")
    sent = page.index("Sent the payment to IMT")
    assert read < sent
    assert "Accepted" in page[sent:]
    assert "HTTP 200" in page and "233 ms" in page and "41 ms" in page
    assert "2026-11-20 17:15:01 UTC" in page


def test_the_raw_exchange_with_the_partner_is_not_shown(portal, biller):
    payment = PaymentFactory(biller=biller)
    delivery = DeliveryFactory(payment=payment, status=DeliveryStatus.PENDING, attempts=1)
    DeliveryAttemptFactory(
        delivery=delivery, outcome=AttemptOutcome.NOT_SENT, status_code=None,
        message="Connection refused.",
        exchange={"url": "https://imt.example.test/raw-endpoint", "request_body": "RAW-BODY-1",
                  "response_body": "RAW-ANSWER-2", "request_headers": {"X-Trace": "RAW-HDR-3"}},
    )  # fmt: skip

    page = _page(portal, payment)

    assert "Connection refused." in page
    for raw in ("raw-endpoint", "RAW-BODY-1", "RAW-ANSWER-2", "RAW-HDR-3", "request_body"):
        assert raw not in page


def test_a_payment_waiting_for_a_retry_says_when_the_next_try_is(portal, biller):
    payment = PaymentFactory(biller=biller)
    next_try = datetime.datetime(2026, 11, 20, 18, 0, tzinfo=datetime.UTC)
    delivery = DeliveryFactory(
        payment=payment, status=DeliveryStatus.PENDING, attempts=2, next_attempt_at=next_try,
        last_error="Connection refused.",
    )  # fmt: skip
    for n in range(2):
        DeliveryAttemptFactory(
            delivery=delivery, started_at=at(60 * n), outcome=AttemptOutcome.NOT_SENT,
            status_code=None, duration_ms=3.0, message="Connection refused.",
        )  # fmt: skip

    page = _page(portal, payment)

    assert (
        "Waiting: IMT could not be reached or did not answer; next try at 2026-11-20 18:00 UTC"
        in page
    )
    assert page.count("Not sent: IMT could not be reached") == 2
    assert "Tries so far: 2." in page


def test_a_payment_the_partner_did_not_answer_is_being_checked(portal, biller):
    payment = PaymentFactory(biller=biller)
    delivery = DeliveryFactory(payment=payment, status=DeliveryStatus.RECONCILING, attempts=1)
    DeliveryAttemptFactory(delivery=delivery, started_at=T0)

    page = _page(portal, payment)

    assert "Waiting: IMT did not answer, so the hub is reading the invoice back" in page
    assert "No clear answer: it may or may not have arrived" in page
    assert "HTTP 502" in page


@pytest.mark.parametrize(
    "status, words",
    [
        (DeliveryStatus.REVIEW, "Needs review by support"),
        (DeliveryStatus.DEAD, "Failed: IMT could not be reached after 8 tries."),
        (DeliveryStatus.REJECTED, "Rejected by IMT on"),
        (DeliveryStatus.CANCELLED, "Not sent: the payment was reversed before it reached IMT."),
        (DeliveryStatus.IN_FLIGHT, "Being sent to IMT now."),
    ],
)
def test_every_state_of_a_delivery_is_said_in_words(portal, biller, status, words):
    payment = PaymentFactory(biller=biller)
    DeliveryFactory(
        payment=payment, status=status, attempts=8, finished_at=T0,
        last_error="Invoice LIC-1 is closed.",
    )  # fmt: skip

    page = _page(portal, payment)

    assert words in page
    if status in (DeliveryStatus.REVIEW, DeliveryStatus.DEAD, DeliveryStatus.REJECTED):
        assert "Invoice LIC-1 is closed." in page


def test_a_call_a_worker_never_finished_shows_as_interrupted(portal, biller):
    payment = PaymentFactory(biller=biller)
    delivery = DeliveryFactory(payment=payment, status=DeliveryStatus.REVIEW, attempts=1)
    DeliveryAttemptFactory(delivery=delivery, outcome="", status_code=None, duration_ms=None)

    page = _page(portal, payment)

    assert "Interrupted: no answer was recorded" in page


def test_a_payment_confirmed_by_reading_back_says_so(portal, biller):
    payment = PaymentFactory(biller=biller, status=PaymentStatus.POSTED)
    delivery = DeliveryFactory(
        payment=payment, status=DeliveryStatus.POSTED, attempts=1, reads=1, finished_at=T0
    )
    DeliveryAttemptFactory(delivery=delivery, started_at=at(0))
    DeliveryAttemptFactory(
        delivery=delivery, kind=AttemptKind.READ_BACK, started_at=at(30),
        outcome=AttemptOutcome.SUCCESS, status_code=200, message="",
    )  # fmt: skip

    page = _page(portal, payment)

    assert "Read the invoice back at IMT to see whether the payment arrived" in page
    assert "confirmed the payment arrived" in page


def test_an_ach_return_shows_its_code_reason_and_status(portal, biller):
    payment = posted_payment(biller, method=PaymentMethod.BANK, payment_source="Web Eck")
    ReversalFactory(
        payment=payment, kind=ReversalKind.ACH_RETURN, return_code="R01",
        reason="Bank returned it.", status=ReversalStatus.DELIVERED,
    )  # fmt: skip

    page = _page(portal, payment)

    assert "ACH return R01" in page
    assert "R01 (Insufficient funds)" in page
    assert "Bank returned it." in page
    assert "Applied by the partner" in page
    assert "Mark applied" not in page


def test_a_reversal_sent_to_the_partner_has_its_own_timeline(portal, biller):
    reversal = reversal_the_partner_refused(biller)

    page = _page(portal, reversal.payment)

    assert "Sent the void to IMT" in page
    assert "Refused by IMT" in page
    assert "HTTP 422" in page
    assert "Voids are not accepted for closed periods." in page


def test_a_reversal_to_apply_can_be_ticked_off_from_the_payment(portal, biller, staff):
    reversal = reversal_to_apply(biller)
    url = _url(reversal.payment)
    page = _page(portal, reversal.payment)
    assert "To apply in your system" in page
    assert (
        reverse("portal:reversal_applied", kwargs={"bid": biller.bid, "reversal_id": reversal.pk})
        in page
    )

    response = portal.post(
        reverse("portal:reversal_applied", kwargs={"bid": biller.bid, "reversal_id": reversal.pk}),
        {"note": "Batch 4411", "next": url},
        follow=True,
    )

    assert response.redirect_chain == [(url, 302)]
    page = response.content.decode()
    assert "marked applied" in page
    assert "Applied by the biller" in page
    assert "by clerk at" in page
    assert "Mark applied" not in page
    reversal.refresh_from_db()
    assert (reversal.status, reversal.applied_by) == (ReversalStatus.APPLIED, staff)


def test_another_billers_payment_is_not_found_like_an_unknown_one(portal, other_biller, biller):
    theirs = posted_payment(other_biller)
    unknown = reverse("portal:payment", kwargs={"bid": biller.bid, "payment_guid": uuid.uuid4()})
    # their payment under our BID, and under theirs
    ours_url = reverse(
        "portal:payment", kwargs={"bid": biller.bid, "payment_guid": theirs.payment_guid}
    )

    answers = [portal.get(url) for url in (unknown, ours_url, _url(theirs))]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert _without_csrf(answers[0]) == _without_csrf(answers[1])
    assert str(theirs.payment_guid) not in answers[1].content.decode()


def _without_csrf(response) -> str:
    """The page, its CSRF token (masked anew on every page) left out."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_the_page_asks_for_a_log_in(client, biller):
    payment = posted_payment(biller)
    response = client.get(_url(payment))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_the_page_takes_a_handful_of_queries_however_many_calls(
    portal, biller, django_assert_max_num_queries
):
    payment = posted_payment(biller)
    reversal = reversal_the_partner_refused(biller)
    delivery = payment.deliveries.get()
    for n in range(30):
        DeliveryAttemptFactory(delivery=delivery, started_at=at(100 + n))

    with django_assert_max_num_queries(12):
        assert portal.get(_url(payment)).status_code == 200
    with django_assert_max_num_queries(12):
        assert portal.get(_url(reversal.payment)).status_code == 200
