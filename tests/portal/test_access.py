"""Logging in to the portal, its lockouts, and who sees which biller."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from billers.models import BillerMembership
from tests.billers.factories import BillerFactory, PortalUserFactory
from tests.support.portal import PASSWORD


def _log_in(client, username, password):
    return client.post(reverse("portal:login"), {"username": username, "password": password})


def test_log_in_takes_a_one_biller_user_to_its_payments(client, staff, biller):
    response = _log_in(client, "clerk", PASSWORD)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.status_code == 302
    assert home["Location"] == reverse("portal:payments", kwargs={"bid": biller.bid})


def test_a_user_of_two_billers_chooses_one(client, biller, other_biller):
    PortalUserFactory(username="both", billers=[biller, other_biller])
    client.post(reverse("portal:login"), {"username": "both", "password": PASSWORD})
    page = client.get(reverse("portal:home"))
    assert page.status_code == 200
    assert biller.name in page.content.decode()
    assert other_biller.name in page.content.decode()


def test_pages_ask_for_a_log_in(client, biller):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, staff):
    response = _log_in(client, "clerk", "wrong")
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_ten_failures_lock_the_username_from_that_address_only(client, staff, settings):
    settings.ICI_LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 10
    PortalUserFactory(username="other", billers=[staff.biller_memberships.get().biller])
    for _ in range(9):
        assert _log_in(client, "clerk", "wrong").status_code == 200
    assert _log_in(client, "clerk", "wrong").status_code == 429  # the tenth locks
    # the right password after the lockout is refused
    blocked = _log_in(client, "clerk", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed log-ins" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    # another user at the same address still logs in
    assert _log_in(client, "other", PASSWORD).status_code == 302


def test_the_same_username_from_another_address_still_logs_in(client, staff, settings):
    for _ in range(10):
        _log_in(client, "clerk", "wrong")
    elsewhere = client.post(
        reverse("portal:login"),
        {"username": "clerk", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )
    assert elsewhere.status_code == 302


def test_failures_with_random_usernames_lock_out_no_one_who_never_failed(client, staff):
    for n in range(30):
        assert _log_in(client, f"guess{n}", "wrong").status_code == 200
    assert _log_in(client, "clerk", PASSWORD).status_code == 302


def test_a_log_in_form_needs_its_csrf_token(staff):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:login"), {"username": "clerk", "password": PASSWORD})
    assert response.status_code == 403


def test_log_out_is_a_post(portal):
    assert portal.get(reverse("portal:logout")).status_code == 405
    response = portal.post(reverse("portal:logout"))
    assert response.status_code == 302
    assert portal.get(reverse("portal:home")).status_code == 302


def test_another_billers_pages_are_not_found(portal, other_biller):
    for name in ("payments", "export", "to_apply", "files", "activity"):
        response = portal.get(reverse(f"portal:{name}", kwargs={"bid": other_biller.bid}))
        assert response.status_code == 404, name


def test_an_admin_is_not_a_portal_user_of_every_biller(client, biller, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("portal:payments", kwargs={"bid": biller.bid}))
    assert response.status_code == 404


def test_create_portal_user_takes_the_password_from_the_environment(db, monkeypatch):
    a, b = BillerFactory(), BillerFactory()
    monkeypatch.setenv("ICI_PORTAL_PASSWORD", "a-long-portal-password")
    call_command("create_portal_user", "ann", "--biller", str(a.bid), "--biller", str(b.bid))
    memberships = BillerMembership.objects.filter(user__username="ann")
    assert {m.biller_id for m in memberships} == {a.pk, b.pk}
    from django.contrib.auth import authenticate

    assert authenticate(username="ann", password="a-long-portal-password") is not None


def test_create_portal_user_refuses_an_unknown_biller_and_writes_nothing(db, monkeypatch):
    a = BillerFactory()
    monkeypatch.setenv("ICI_PORTAL_PASSWORD", "a-long-portal-password")
    with pytest.raises(CommandError, match="No biller with BID 4242"):
        call_command("create_portal_user", "ann", "--biller", str(a.bid), "--biller", "4242")
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="ann").exists()


def test_create_portal_user_refuses_a_weak_password(db, monkeypatch):
    a = BillerFactory()
    monkeypatch.setenv("ICI_PORTAL_PASSWORD", "123")
    with pytest.raises(CommandError, match="weak_password"):
        call_command("create_portal_user", "ann", "--biller", str(a.bid))


def test_create_portal_user_without_a_password_or_terminal_says_how(db, monkeypatch):
    a = BillerFactory()
    monkeypatch.delenv("ICI_PORTAL_PASSWORD", raising=False)
    monkeypatch.setattr("os.isatty", lambda fd: False)
    with pytest.raises(CommandError, match="ICI_PORTAL_PASSWORD"):
        call_command("create_portal_user", "ann", "--biller", str(a.bid))
