"""A refused credential (401/403) holds payments; it never rejects them. Held
deliveries wait without calling the partner, other billers go on, and they
resume on a settings save, an operator's "Retry now", or the sweep's probe,
each posted once (the sandbox's ledger says so)."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from billers.catalog import SettingId
from billers.services.presets import PRESET_DIR, biller_preset_load
from billers.services.settings import biller_setting_set
from icintegrations.errors import ErrorCode
from partners.services.sandboxes import biller_point_at_sandbox
from payments.models import (
    AttemptKind,
    CredentialHold,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    OperatorAction,
    PaymentStatus,
    Reversal,
    ReversalKind,
    ReversalStatus,
)
from payments.services.delivery import deliveries_sweep, delivery_run
from payments.services.delivery.hold import delivery_credentials_refused
from payments.services.holds import credential_hold_retry
from payments.services.operators import delivery_resolve
from payments.services.payments import PaymentRefused
from tests.payments.factories import DeliveryFactory
from tests.support.partners import CITIZENSERVE_KEY, IMT_INTEGRATOR_ID
from tests.support.payments import hub_invoice, pay, payment_of, pump

pytestmark = pytest.mark.django_db


def delivery_of(payment) -> Delivery:
    return Delivery.objects.get(payment=payment)


def posts_of(payment) -> int:
    return DeliveryAttempt.objects.filter(delivery__payment=payment, kind=AttemptKind.POST).count()


def calls_of(payment) -> int:
    return DeliveryAttempt.objects.filter(delivery__payment=payment).count()


def ledger_payments(sandbox, payment):
    return sandbox.ledger.payments_for(str(payment.payment_guid))


def detail(api, payment) -> dict:
    return api.get(f"/api/v1/billers/{payment.biller.bid}/payments/{payment.payment_guid}").json()


@pytest.fixture
def imt_second(presets, imt_sandbox, tmp_path):
    """A second biller of IMT (BID 1368), on the same sandbox, with good credentials."""
    data = json.loads((PRESET_DIR / "imt.json").read_text())
    data["biller"].update(
        bid=1368, name="IMT Second", biller_guid="3b0c7f7e-9d1e-4c55-8f7c-1a2b3c4d5e6f"
    )
    path = tmp_path / "imt2.json"
    path.write_text(json.dumps(data))
    biller = biller_preset_load(name="imt2", path=path, environ={}, activate=True).biller
    biller_point_at_sandbox(
        biller=biller, sandbox_url=imt_sandbox.url, credential=IMT_INTEGRATOR_ID
    )
    return biller


@pytest.fixture
def api_all(presets, imt_second):
    from rest_framework.test import APIClient

    from billers.services.api_clients import api_client_create

    _, token = api_client_create(name="payer-site-2", bids=[2249, 1367, 1368])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- the hold ----------------------------------------------------------------------


def test_a_403_holds_the_payment_and_a_settings_save_posts_it_once(
    api, peoria, citizenserve_sandbox, admin_client
):
    first_invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-910001", balance="50.00")
    second_invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-910002", balance="20.00")
    citizenserve_sandbox.set_faults(auth_fail=True)  # the test environment was rebuilt
    first = payment_of(pay(api, first_invoice, amount="50.00"))
    second = payment_of(pay(api, second_invoice, amount="20.00"))

    said = pump()

    # Held, never rejected: the payments stay pending, nothing counted as an attempt.
    assert "held for the biller's credentials: refused since" in said[0]
    for payment in (first, second):
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PENDING
        delivery = delivery_of(payment)
        assert (delivery.status, delivery.held, delivery.attempts) == ("pending", True, 0)
        assert detail(api, payment)["hold"] == "partner_auth_failed"
        assert ledger_payments(citizenserve_sandbox, payment) == []
    # Only the first called the partner (its read before the post, refused: nothing
    # posted); the second waited without calling it.
    assert (calls_of(first), calls_of(second)) == (1, 0)
    assert posts_of(first) == 0
    hold = CredentialHold.objects.get(biller=peoria)
    assert hold.since is not None and hold.held == 2
    assert deliveries_sweep() == 0  # no task for a held delivery
    operations = admin_client.get(reverse("admin-operations")).content.decode()
    assert "credentials refused since" in operations
    biller_page = admin_client.get(reverse("admin:billers_biller_change", args=[peoria.pk]))
    assert "Credentials refused since" in biller_page.content.decode()
    assert "2 deliveries held" in biller_page.content.decode()

    # The partner sets the environment up again; the biller's key is saved again.
    citizenserve_sandbox.set_faults(auth_fail=False)
    call_command("set_biller_setting", 2249, SettingId.PAYMENTS_PASSWORD, CITIZENSERVE_KEY)
    pump()

    for payment in (first, second):
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.POSTED
        delivery = delivery_of(payment)
        assert (delivery.held, delivery.attempts) == (False, 1)
        assert len(ledger_payments(citizenserve_sandbox, payment)) == 1
        assert detail(api, payment)["hold"] is None
        successes = DeliveryAttempt.objects.filter(
            delivery__payment=payment, kind=AttemptKind.POST, outcome="success"
        )
        assert successes.count() == 1
    assert citizenserve_sandbox.ledger.get_invoice("PBL26-910001")["balancedue"] == 0
    assert CredentialHold.objects.get(biller=peoria).since is None
    assert (
        "credentials refused since"
        not in admin_client.get(reverse("admin-operations")).content.decode()
    )


def test_other_billers_of_the_same_partner_go_on(api_all, imt, imt_second, imt_sandbox):
    # The first IMT biller's stored key is wrong (the sandbox answers 403 to it alone).
    biller_setting_set(biller=imt, setting_id=SettingId.RTDR_KEY, value="wrong-key")
    biller_setting_set(biller=imt, setting_id=SettingId.PAYMENTS_PASSWORD, value="wrong-key")
    held_invoice = hub_invoice(imt, imt_sandbox, "IMT9100001", balance="40.00", account="0406")
    other_invoice = hub_invoice(
        imt_second, imt_sandbox, "IMT9100002", balance="30.00", account="0407"
    )
    held = payment_of(pay(api_all, held_invoice))
    other = payment_of(pay(api_all, other_invoice))

    pump()

    held.refresh_from_db()
    other.refresh_from_db()
    assert held.status == PaymentStatus.PENDING and delivery_of(held).held
    assert other.status == PaymentStatus.POSTED
    assert len(ledger_payments(imt_sandbox, other)) == 1
    assert not CredentialHold.objects.filter(biller=imt_second).exists()

    # The right key, saved in the admin's way (the service): posted once.
    biller_setting_set(biller=imt, setting_id=SettingId.RTDR_KEY, value=IMT_INTEGRATOR_ID)
    biller_setting_set(biller=imt, setting_id=SettingId.PAYMENTS_PASSWORD, value=IMT_INTEGRATOR_ID)
    pump()

    held.refresh_from_db()
    assert held.status == PaymentStatus.POSTED
    assert len(ledger_payments(imt_sandbox, held)) == 1


def test_saving_the_biller_page_in_the_admin_releases_the_hold(api, imt, imt_sandbox, admin_client):
    invoice = hub_invoice(imt, imt_sandbox, "IMT9100003", balance="40.00", account="0406")
    imt_sandbox.set_faults(auth_fail=True)
    payment = payment_of(pay(api, invoice))
    pump()
    assert delivery_of(payment).held
    imt_sandbox.set_faults(auth_fail=False)

    page = admin_client.get(reverse("admin:billers_biller_change", args=[imt.pk]))
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        prefix = formset.formset.prefix
        data.update({f"{prefix}-{k}": v for k, v in management.initial.items()})
        for i, inline_form in enumerate(formset.formset.forms):
            for name, field in inline_form.fields.items():
                value = inline_form.initial.get(name, field.initial)
                if value is not None and not isinstance(value, bool):
                    data[f"{prefix}-{i}-{name}"] = value
                elif value:
                    data[f"{prefix}-{i}-{name}"] = "on"
    response = admin_client.post(reverse("admin:billers_biller_change", args=[imt.pk]), data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""

    pump()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.POSTED
    assert len(ledger_payments(imt_sandbox, payment)) == 1


def test_a_refused_read_back_holds_the_delivery_and_reads_again_after(api, imt, imt_sandbox):
    invoice = hub_invoice(imt, imt_sandbox, "IMT9100004", balance="40.00", account="0406",
                          fresh=True)  # fmt: skip
    payment = payment_of(pay(api, invoice, amount="40.00"))
    delivery = delivery_of(payment)
    imt_sandbox.set_faults(timeout_rate=1.0, hang_seconds=1.0)
    assert delivery_run(delivery.pk) == "unknown: reconciling"  # applied, answer lost
    imt_sandbox.set_faults(timeout_rate=0.0, auth_fail=True)

    said = delivery_run(delivery.pk)

    assert said.startswith("held for the biller's credentials")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.held, delivery.reads) == ("reconciling", True, 0)
    assert payment_of_status(payment) == PaymentStatus.PENDING

    imt_sandbox.set_faults(auth_fail=False)
    biller_setting_set(biller=imt, setting_id=SettingId.RTDR_KEY, value=IMT_INTEGRATOR_ID)
    assert pump() == ["posted (confirmed by read-back)"]  # read back, not posted again
    assert posts_of(payment) == 1
    assert len(ledger_payments(imt_sandbox, payment)) == 1


def payment_of_status(payment) -> str:
    payment.refresh_from_db()
    return payment.status


def test_a_refusal_of_a_call_begun_before_the_hold_lifted_holds_nothing():
    delivery = DeliveryFactory(status=DeliveryStatus.PENDING)
    released = timezone.now()
    CredentialHold.objects.create(
        biller=delivery.biller, partner=delivery.partner, released_at=released
    )

    said = delivery_credentials_refused(
        delivery, None, message="403", called_at=released - datetime.timedelta(seconds=1)
    )

    assert said == "refused with credentials replaced since: trying again"
    delivery.refresh_from_db()
    assert not delivery.held
    assert CredentialHold.objects.get(biller=delivery.biller).since is None


# --- the sweep's probe -------------------------------------------------------------


def _age_hold(biller, minutes: float) -> None:
    past = timezone.now() - datetime.timedelta(minutes=minutes)
    hold = CredentialHold.objects.get(biller=biller)
    CredentialHold.objects.filter(pk=hold.pk).update(
        since=past, last_probe_at=past if hold.last_probe_at else None
    )


@override_settings(ICI_PUMP_AUTH_RETRY_MINUTES=30)
def test_the_sweep_probes_with_one_delivery_and_lifts_the_hold_when_it_posts(
    api, peoria, citizenserve_sandbox
):
    invoices = [
        hub_invoice(peoria, citizenserve_sandbox, f"PBL26-92000{i}", balance="10.00")
        for i in range(3)
    ]
    citizenserve_sandbox.set_faults(auth_fail=True)
    payments = [payment_of(pay(api, invoice)) for invoice in invoices]
    pump()
    calls_before = DeliveryAttempt.objects.count()
    assert calls_before == 1  # the first one's read, refused

    # Not yet time: no probe.
    assert deliveries_sweep() == 0

    # Time, and still refused: one call (the probe's, run by the sweep's task),
    # and the hold stays.
    _age_hold(peoria, 31)
    assert deliveries_sweep() == 1
    assert pump() == []
    assert DeliveryAttempt.objects.count() == calls_before + 1
    hold = CredentialHold.objects.get(biller=peoria)
    assert hold.since is not None and hold.held == 3 and hold.last_probe_at is not None
    assert all(delivery_of(p).held and delivery_of(p).attempts == 0 for p in payments)
    assert deliveries_sweep() == 0  # the next probe waits another 30 minutes

    # Time again, and the key works: the probe posts, the rest follow.
    citizenserve_sandbox.set_faults(auth_fail=False)
    _age_hold(peoria, 31)
    assert deliveries_sweep() == 1
    pump()
    assert CredentialHold.objects.get(biller=peoria).since is None
    for payment in payments:
        assert payment_of_status(payment) == PaymentStatus.POSTED
        assert len(ledger_payments(citizenserve_sandbox, payment)) == 1


# --- operators: Retry now, and re-post a rejected delivery ---------------------------


def _held_delivery():
    delivery = DeliveryFactory(status=DeliveryStatus.PENDING, held=True)
    CredentialHold.objects.create(
        biller=delivery.biller, partner=delivery.partner, since=timezone.now(), held=1
    )
    return delivery


def test_retry_now_releases_the_held_deliveries_and_records_who_and_why(admin_client):
    delivery = _held_delivery()
    hold = CredentialHold.objects.get(biller=delivery.biller)
    url = reverse("admin:payments_credentialhold_retry", args=[hold.pk])
    assert (
        "Retry now"
        in admin_client.get(
            reverse("admin:payments_credentialhold_change", args=[hold.pk])
        ).content.decode()
    )

    response = admin_client.post(url, {"reason": "The partner set the key up again."}, follow=True)

    assert "1 held deliveries are posted again" in response.content.decode()
    delivery.refresh_from_db()
    assert not delivery.held and delivery.next_attempt_at <= timezone.now()
    hold.refresh_from_db()
    assert hold.since is None and hold.released_at is not None
    action = OperatorAction.objects.get(biller=delivery.biller)
    assert action.action == OperatorAction.Action.RETRY_HELD
    assert action.user.username == "admin"
    assert action.reason == "The partner set the key up again."


@pytest.mark.parametrize("reason", ["", "   "])
def test_retry_now_needs_a_reason(admin_client, reason):
    delivery = _held_delivery()
    hold = CredentialHold.objects.get(biller=delivery.biller)

    response = admin_client.post(
        reverse("admin:payments_credentialhold_retry", args=[hold.pk]), {"reason": reason}
    )

    assert response.status_code == 200  # the form again, with its error
    delivery.refresh_from_db()
    assert delivery.held
    assert not OperatorAction.objects.exists()


def test_retry_now_is_refused_when_nothing_is_held(admin_user):
    delivery = DeliveryFactory(status=DeliveryStatus.PENDING)
    with pytest.raises(PaymentRefused) as refused:
        credential_hold_retry(biller=delivery.biller, user=admin_user, reason="why not")
    assert refused.value.code == ErrorCode.NOT_HELD
    assert not OperatorAction.objects.exists()


def test_a_rejected_delivery_is_posted_again_with_a_reason(admin_client):
    delivery = DeliveryFactory(status=DeliveryStatus.REJECTED, attempts=1)
    delivery.payment.status = PaymentStatus.REJECTED
    delivery.payment.save(update_fields=["status"])

    response = admin_client.post(
        reverse("admin:payments_delivery_resolve", args=[delivery.pk]),
        {"action": "repost_rejected", "reason": "The biller fixed the account number."},
        follow=True,
    )

    assert "Re-posted a rejected delivery" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert payment_of_status(delivery.payment) == PaymentStatus.PENDING
    action = OperatorAction.objects.get(delivery=delivery)
    assert action.action == OperatorAction.Action.REPOST_REJECTED
    assert action.reason == "The biller fixed the account number."


@pytest.mark.parametrize(
    "status", [DeliveryStatus.POSTED, DeliveryStatus.IN_FLIGHT, DeliveryStatus.RECONCILING]
)
def test_reposting_is_refused_for_a_posted_or_in_flight_delivery(admin_user, status):
    delivery = DeliveryFactory(status=status)
    with pytest.raises(PaymentRefused) as refused:
        delivery_resolve(
            delivery=delivery, action="repost_rejected", user=admin_user, reason="again"
        )
    assert refused.value.code == ErrorCode.WRONG_DELIVERY_STATUS
    assert Delivery.objects.get(pk=delivery.pk).status == status


def test_reposting_is_refused_for_a_reversed_payment_and_without_a_reason(admin_user):
    delivery = DeliveryFactory(status=DeliveryStatus.REJECTED)
    with pytest.raises(PaymentRefused) as refused:
        delivery_resolve(delivery=delivery, action="repost_rejected", user=admin_user, reason=" ")
    assert refused.value.code == ErrorCode.REASON_REQUIRED
    Reversal.objects.create(
        payment=delivery.payment, kind=ReversalKind.VOID, status=ReversalStatus.NOT_NEEDED
    )
    with pytest.raises(PaymentRefused) as refused:
        delivery_resolve(
            delivery=delivery, action="repost_rejected", user=admin_user, reason="again"
        )
    assert refused.value.code == ErrorCode.PAYMENT_REVERSED
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.REJECTED
    assert not OperatorAction.objects.exists()
