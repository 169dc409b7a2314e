import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from payments.models import (
    CircuitBreaker,
    DeliveryKind,
    DeliveryStatus,
    OperatorAction,
    PaymentStatus,
    ReversalStatus,
)
from tests.payments.factories import (
    DeliveryAttemptFactory,
    DeliveryFactory,
    ReversalFactory,
)

pytestmark = pytest.mark.django_db


def _resolve_url(delivery):
    return reverse("admin:payments_delivery_resolve", args=[delivery.pk])


def _mark_applied_url(reversal):
    return reverse("admin:payments_reversal_mark_applied", args=[reversal.pk])


def _dead_letter():
    return DeliveryFactory(
        status=DeliveryStatus.DEAD, attempts=6, last_error="Partner unavailable (503)"
    )


def _review_item():
    delivery = DeliveryFactory(status=DeliveryStatus.REVIEW, attempts=1, reads=3)
    delivery.payment.status = PaymentStatus.REVIEW
    delivery.payment.save(update_fields=["status"])
    return delivery


def _staff(django_user_model, *permissions):
    user = django_user_model.objects.create_user("operator", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="payments", codename__in=permissions)
    )
    return user


def test_the_operator_pages_render(admin_client):
    delivery = _dead_letter()
    DeliveryAttemptFactory(delivery=delivery)
    reversal = ReversalFactory()
    CircuitBreaker.objects.create(partner="IMT", failures=5, last_failure="connect timeout")
    urls = [
        reverse("admin:payments_payment_changelist"),
        reverse("admin:payments_payment_change", args=[delivery.payment.pk]),
        reverse("admin:payments_payment_change", args=[reversal.payment.pk]),
        reverse("admin:payments_delivery_changelist"),
        reverse("admin:payments_delivery_changelist") + "?kind__exact=payment&partner=IMT",
        reverse("admin:payments_delivery_change", args=[delivery.pk]),
        _resolve_url(delivery),
        reverse("admin:payments_reversal_changelist") + "?status__exact=to_apply",
        reverse("admin:payments_reversal_change", args=[reversal.pk]),
        _mark_applied_url(reversal),
        reverse("admin:payments_circuitbreaker_changelist"),
        reverse("admin:payments_operatoraction_changelist"),
    ]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_nothing_in_the_pump_is_edited_or_deleted_by_hand(admin_client):
    delivery = _dead_letter()
    for name in ("payment", "delivery", "reversal", "circuitbreaker", "operatoraction"):
        assert admin_client.get(reverse(f"admin:payments_{name}_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:payments_delivery_change", args=[delivery.pk]),
        {"status": DeliveryStatus.POSTED},
    )
    assert response.status_code == 403
    response = admin_client.post(reverse("admin:payments_delivery_delete", args=[delivery.pk]))
    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


def test_the_delivery_list_filters_by_status(admin_client):
    dead = _dead_letter()
    posted = DeliveryFactory(status=DeliveryStatus.POSTED)

    response = admin_client.get(
        reverse("admin:payments_delivery_changelist") + "?status__exact=dead"
    )

    shown = list(response.context["cl"].result_list)
    assert shown == [dead]
    assert posted not in shown
    assert str(dead.payment.payment_guid) in response.content.decode()


def test_the_delivery_list_finds_a_payment_by_guid_or_invoice_number(admin_client):
    wanted = _dead_letter()
    DeliveryFactory()
    url = reverse("admin:payments_delivery_changelist")

    by_guid = admin_client.get(url, {"q": str(wanted.payment.payment_guid)})
    by_invoice = admin_client.get(url, {"q": wanted.invoice_number})

    assert list(by_guid.context["cl"].result_list) == [wanted]
    assert list(by_invoice.context["cl"].result_list) == [wanted]


def test_the_delivery_page_shows_its_attempts_with_the_redacted_exchange(admin_client):
    delivery = _dead_letter()
    DeliveryAttemptFactory(delivery=delivery, error_code="partner_unavailable", status_code=503)

    response = admin_client.get(reverse("admin:payments_delivery_change", args=[delivery.pk]))

    html = response.content.decode()
    assert "partner_unavailable" in html
    assert "https://partner.example.test/api/payments" in html
    assert "&quot;Authorization&quot;: &quot;***&quot;" in html  # pretty-printed JSON
    assert "<pre" in html
    assert _resolve_url(delivery) + "?action=replay" in html  # the button


def test_a_posted_delivery_offers_no_operator_action(admin_client):
    delivery = DeliveryFactory(status=DeliveryStatus.POSTED)

    change = admin_client.get(reverse("admin:payments_delivery_change", args=[delivery.pk]))
    page = admin_client.get(_resolve_url(delivery))

    assert _resolve_url(delivery) not in change.content.decode()
    assert "Nothing to do here" in page.content.decode()


def test_replaying_a_dead_letter_sends_it_again_and_records_who_and_why(admin_client):
    delivery = _dead_letter()
    payment = delivery.payment
    payment.status = PaymentStatus.FAILED
    payment.save(update_fields=["status"])

    response = admin_client.post(
        _resolve_url(delivery),
        {"action": "replay", "reason": "IMT was down all night; back up now."},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse(
        "admin:payments_delivery_change", args=[delivery.pk]
    )
    assert "Replayed a dead letter" in response.content.decode()
    delivery.refresh_from_db()
    payment.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 0
    assert payment.status == PaymentStatus.PENDING
    action = OperatorAction.objects.get(delivery=delivery)
    assert action.action == OperatorAction.Action.REPLAY
    assert action.user.username == "admin"
    assert action.reason == "IMT was down all night; back up now."
    assert "IMT was down all night" in response.content.decode()  # the audit trail inline


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_action_without_a_reason_is_refused_and_changes_nothing(admin_client, reason):
    delivery = _dead_letter()

    response = admin_client.post(_resolve_url(delivery), {"action": "replay", "reason": reason})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert not OperatorAction.objects.exists()


def test_marking_a_review_item_posted_keeps_the_partner_receipt(admin_client):
    delivery = _review_item()

    response = admin_client.post(
        _resolve_url(delivery),
        {
            "action": "mark_posted",
            "reason": "Found in IMT's payment list, posted at 09:14.",
            "receipt_number": "R-778812",
        },
    )

    assert response.status_code == 302
    delivery.refresh_from_db()
    delivery.payment.refresh_from_db()
    assert delivery.status == DeliveryStatus.POSTED
    assert delivery.payment.status == PaymentStatus.POSTED
    assert delivery.payment.receipt_number == "R-778812"
    action = OperatorAction.objects.get(delivery=delivery)
    assert (action.action, action.receipt_number) == ("mark_posted", "R-778812")


def test_reposting_a_review_item_sends_it_again(admin_client):
    delivery = _review_item()

    response = admin_client.post(
        _resolve_url(delivery),
        {"action": "repost", "reason": "Not in IMT's payment list after a day."},
    )

    assert response.status_code == 302
    delivery.refresh_from_db()
    delivery.payment.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.payment.status == PaymentStatus.PENDING


def test_an_action_that_does_not_fit_the_status_is_refused(admin_client):
    delivery = _review_item()

    response = admin_client.post(
        _resolve_url(delivery), {"action": "replay", "reason": "Try again."}
    )

    assert response.status_code == 200
    assert "does not fit a delivery in status" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.REVIEW
    assert not OperatorAction.objects.exists()


def test_the_service_refusal_is_shown_on_the_page(admin_client):
    # Given a dead payment delivery whose payment was voided since
    delivery = _dead_letter()
    ReversalFactory(payment=delivery.payment)

    response = admin_client.post(
        _resolve_url(delivery), {"action": "replay", "reason": "Partner back up."}
    )

    assert response.status_code == 200
    assert "voided or returned since" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


def test_replaying_a_dead_reversal_takes_it_off_the_biller_to_apply_list(admin_client):
    reversal = ReversalFactory(status=ReversalStatus.TO_APPLY)
    delivery = DeliveryFactory(
        kind=DeliveryKind.REVERSAL,
        payment=reversal.payment,
        reversal=reversal,
        status=DeliveryStatus.DEAD,
    )

    response = admin_client.post(
        _resolve_url(delivery), {"action": "replay", "reason": "Partner back up."}
    )

    assert response.status_code == 302
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.PENDING


def test_a_reversal_the_biller_applied_is_not_replayed(admin_client):
    reversal = ReversalFactory(status=ReversalStatus.APPLIED)
    delivery = DeliveryFactory(
        kind=DeliveryKind.REVERSAL,
        payment=reversal.payment,
        reversal=reversal,
        status=DeliveryStatus.DEAD,
    )

    response = admin_client.post(
        _resolve_url(delivery), {"action": "replay", "reason": "Partner back up."}
    )

    assert response.status_code == 200
    assert "applied this reversal in its own system" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


def test_someone_not_staff_is_sent_to_the_login_page(client, django_user_model):
    delivery = _dead_letter()
    user = django_user_model.objects.create_user("payer", password="pw")
    client.force_login(user)

    response = client.post(_resolve_url(delivery), {"action": "replay", "reason": "Because."})

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


def test_a_staff_user_without_the_permission_cannot_resolve(client, django_user_model):
    delivery = _dead_letter()
    client.force_login(_staff(django_user_model, "view_delivery"))

    change = client.get(reverse("admin:payments_delivery_change", args=[delivery.pk]))
    page = client.get(_resolve_url(delivery))
    post = client.post(_resolve_url(delivery), {"action": "replay", "reason": "Because."})

    assert change.status_code == 200
    assert _resolve_url(delivery) not in change.content.decode()
    assert page.status_code == 403
    assert post.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


def test_a_staff_user_with_the_permission_can_resolve(client, django_user_model):
    delivery = _dead_letter()
    DeliveryAttemptFactory(delivery=delivery)
    client.force_login(_staff(django_user_model, "change_delivery"))

    change = client.get(reverse("admin:payments_delivery_change", args=[delivery.pk]))
    post = client.post(_resolve_url(delivery), {"action": "replay", "reason": "Partner up."})

    assert "partner_unknown" in change.content.decode()  # attempts shown with the delivery
    assert post.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_a_post_without_the_csrf_token_is_refused(admin_user):
    delivery = _dead_letter()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    refused = client.post(_resolve_url(delivery), {"action": "replay", "reason": "Because."})

    assert refused.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    # the same POST with the page's token goes through
    client.get(_resolve_url(delivery))
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        _resolve_url(delivery),
        {"action": "replay", "reason": "Because.", "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302


def test_marking_a_reversal_applied_records_who_and_why(admin_client):
    reversal = ReversalFactory()
    change = admin_client.get(reverse("admin:payments_reversal_change", args=[reversal.pk]))
    assert _mark_applied_url(reversal) in change.content.decode()

    response = admin_client.post(
        _mark_applied_url(reversal), {"reason": "Voided in Peoria's CIS, batch 4411."}
    )

    assert response.status_code == 302
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.APPLIED
    assert reversal.applied_by.username == "admin"
    action = OperatorAction.objects.get(reversal=reversal)
    assert (action.action, action.reason) == ("applied", "Voided in Peoria's CIS, batch 4411.")


def test_marking_a_reversal_applied_needs_a_reason(admin_client):
    reversal = ReversalFactory()

    response = admin_client.post(_mark_applied_url(reversal), {"reason": " "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.TO_APPLY
    assert not OperatorAction.objects.exists()


def test_a_reversal_already_applied_is_not_marked_again(admin_client):
    reversal = ReversalFactory(status=ReversalStatus.DELIVERED)

    response = admin_client.post(_mark_applied_url(reversal), {"reason": "Applied."})

    assert response.status_code == 200
    assert "Nothing to do here" in response.content.decode()
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.DELIVERED
    assert not OperatorAction.objects.exists()
