"""Voids and ACH returns: neither partner's document defines a reversal call, so
each is recorded and listed for the biller to apply in its own system."""

import datetime
import uuid

import pytest
from django.utils import timezone

from payments.models import Payment, PaymentStatus, Reversal, ReversalStatus
from tests.support.payments import hub_invoice, pay, pump

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(api, peoria, citizenserve_sandbox):
    """A bank payment posted to CitizenServe."""
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-700001", balance="80.00")
    guid = pay(api, invoice, payment_source="Web Eck", amount="80.00").json()["payment_guid"]
    pump()
    return Payment.objects.get(payment_guid=guid)


def void(api, payment, **body):
    return api.post(
        f"/api/v1/billers/2249/payments/{payment.payment_guid}/void", body, format="json"
    )


def ach_return(api, payment, **body):
    return api.post(
        f"/api/v1/billers/2249/payments/{payment.payment_guid}/ach-return", body, format="json"
    )


def test_a_void_the_partner_cannot_take_is_listed_to_apply_in_the_billers_system(
    api, posted, citizenserve_sandbox
):
    response = void(api, posted, reason="Payer asked")

    assert response.status_code == 202
    assert response.json()["status"] == "to_apply"
    assert response.json()["kind"] == "void"
    reversal = Reversal.objects.get(payment=posted)
    assert reversal.status == ReversalStatus.TO_APPLY
    assert reversal.reason == "Payer asked"
    detail = api.get(f"/api/v1/billers/2249/payments/{posted.payment_guid}").json()
    assert detail["reversal"]["status"] == "to_apply"
    assert citizenserve_sandbox.ledger.requests.get("payment") == 1  # nothing more sent


def test_an_ach_return_with_its_nacha_code_is_recorded(api, posted):
    response = ach_return(api, posted, return_code="r01")
    assert response.status_code == 202
    assert response.json()["return_code"] == "R01"
    assert response.json()["status"] == "to_apply"


def test_an_imt_void_is_listed_to_apply_too(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT7000001", balance="50.00")
    guid = pay(api, invoice).json()["payment_guid"]
    pump()
    response = api.post(f"/api/v1/billers/1367/payments/{guid}/void", {}, format="json")
    assert response.json()["status"] == "to_apply"


@pytest.mark.parametrize("code", ["R99", "R48", "X01", "", "R1"])
def test_an_unknown_return_code_is_refused(api, posted, code):
    response = ach_return(api, posted, return_code=code)
    assert response.status_code in (400, 422)
    if response.status_code == 422:
        assert response.json()["code"] == "unknown_return_code"
    assert not Reversal.objects.exists()


def test_an_ach_return_on_the_61st_day_is_refused(api, posted):
    # The window counts the biller's days (tests/payments/test_biller_days.py has
    # the boundary): 60 days and a minute can still be the 60th day.
    Payment.objects.filter(pk=posted.pk).update(
        paid_at=timezone.now() - datetime.timedelta(days=61)
    )
    response = ach_return(api, posted, return_code="R01")
    assert (response.status_code, response.json()["code"]) == (422, "ach_return_window_passed")


def test_an_ach_return_on_day_59_is_taken(api, posted):
    Payment.objects.filter(pk=posted.pk).update(
        paid_at=timezone.now() - datetime.timedelta(days=59)
    )
    assert ach_return(api, posted, return_code="R02").status_code == 202


def test_a_card_payment_cannot_be_returned_by_ach(api, posted):
    Payment.objects.filter(pk=posted.pk).update(method="card")
    response = ach_return(api, posted, return_code="R01")
    assert (response.status_code, response.json()["code"]) == (422, "not_a_bank_payment")


def test_the_same_reversal_again_is_the_same_and_another_is_a_409(api, posted):
    first = void(api, posted, reason="Payer asked")
    again = void(api, posted, reason="Payer asked")
    assert again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()

    other = ach_return(api, posted, return_code="R01")
    assert (other.status_code, other.json()["code"]) == (409, "already_reversed")
    assert Reversal.objects.count() == 1


def test_a_reversal_of_a_payment_the_partner_rejected_needs_nothing_applied(api, posted):
    Payment.objects.filter(pk=posted.pk).update(status=PaymentStatus.REJECTED)
    assert void(api, posted).json()["status"] == "not_needed"


def test_a_reversal_of_an_unknown_payment_is_a_404(api, peoria):
    response = api.post(f"/api/v1/billers/2249/payments/{uuid.uuid4()}/void", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "payment_not_found")


def test_a_voided_dead_letter_is_not_replayed(api, posted, admin_user):
    from payments.models import Delivery, DeliveryStatus
    from payments.services.operators import delivery_resolve
    from payments.services.payments import PaymentRefused

    delivery = Delivery.objects.get(payment=posted)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD)
    delivery.refresh_from_db()
    void(api, posted)
    with pytest.raises(PaymentRefused) as refused:
        delivery_resolve(delivery=delivery, action="replay", user=admin_user, reason="retry")
    assert refused.value.code == "payment_reversed"


@pytest.fixture
def unsent(api, peoria, citizenserve_sandbox):
    """A bank payment accepted and not yet delivered (its task has not run)."""
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-700002", balance="40.00")
    guid = pay(api, invoice, payment_source="Web Eck", amount="40.00").json()["payment_guid"]
    return Payment.objects.get(payment_guid=guid)


@pytest.mark.parametrize("reverse", ["void", "ach_return"])
def test_a_payment_reversed_before_it_was_sent_is_never_sent(
    api, unsent, citizenserve_sandbox, reverse
):
    from payments.models import Delivery, DeliveryStatus

    if reverse == "void":
        response = void(api, unsent, reason="Card voided")
    else:
        response = ach_return(api, unsent, return_code="R01")
    pump()

    assert response.status_code == 202
    assert response.json()["status"] == "not_needed"  # nothing for the biller to apply
    detail = api.get(f"/api/v1/billers/2249/payments/{unsent.payment_guid}").json()
    assert detail["status"] == "reversed"
    assert Delivery.objects.get(payment=unsent).status == DeliveryStatus.CANCELLED
    assert citizenserve_sandbox.ledger.requests.get("payment") is None
    assert citizenserve_sandbox.ledger.payments == []


def test_a_payment_a_worker_is_sending_is_not_stopped_and_its_void_is_to_apply(
    api, unsent, citizenserve_sandbox
):
    from payments.models import Delivery, DeliveryStatus
    from payments.services.delivery import delivery_claim
    from payments.services.delivery import delivery_post as _post

    lease = delivery_claim(Delivery.objects.get(payment=unsent).pk)  # a worker has it
    response = void(api, unsent, reason="Card voided")
    said = _post(lease)

    assert response.json()["status"] == "to_apply"
    assert said == "posted"
    assert Delivery.objects.get(payment=unsent).status == DeliveryStatus.POSTED
    assert len(citizenserve_sandbox.ledger.payments) == 1
