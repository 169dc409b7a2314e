"""Log-in protection on the admin (django-axes): lockouts per username and
address, proxy-aware, logged, listed and lifted in the admin."""

import logging

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from icintegrations.client_address import client_address

ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def second_admin(django_user_model):
    return django_user_model.objects.create_superuser("second", "s@example.com", "second-pass")


def _admin_log_in(client, username, password, **extra):
    return client.post(
        ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def test_ten_wrong_admin_passwords_lock_that_account_from_that_address(
    client, admin_user, second_admin, caplog
):
    for _ in range(9):
        assert _admin_log_in(client, "admin", "wrong").status_code == 200
    # the tenth failure locks the account from this address
    assert _admin_log_in(client, "admin", "wrong").status_code == 429
    with caplog.at_level(logging.WARNING):
        refused = _admin_log_in(client, "admin", "password")
    assert refused.status_code == 429
    assert "Too many failed log-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert any("locked out" in r.getMessage().lower() for r in caplog.records)
    # another user from the same address still logs in
    assert _admin_log_in(client, "second", "second-pass").status_code == 302


def test_nine_failures_then_the_right_password_log_in(client, admin_user):
    for _ in range(9):
        _admin_log_in(client, "admin", "wrong")
    assert _admin_log_in(client, "admin", "password").status_code == 302


def test_random_usernames_do_not_lock_out_an_admin_who_never_failed(client, admin_user):
    for n in range(30):
        _admin_log_in(client, f"guess{n}", "wrong")
    assert _admin_log_in(client, "admin", "password").status_code == 302


def test_the_lockout_is_listed_in_the_admin_and_an_operator_lifts_it(
    client, admin_user, second_admin
):
    for _ in range(10):
        _admin_log_in(client, "admin", "wrong")
    assert _admin_log_in(client, "admin", "password").status_code == 429

    operator = type(client)()
    operator.force_login(second_admin)
    listing = operator.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "admin" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="admin")
    operator.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert _admin_log_in(client, "admin", "password").status_code == 302


def test_behind_a_proxy_the_lockout_follows_the_forwarded_address(client, admin_user, settings):
    settings.ICI_TRUSTED_PROXY_COUNT = 1
    for _ in range(10):
        _admin_log_in(client, "admin", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7")
    # the proxy's REMOTE_ADDR is everyone's: another client behind it is not locked out
    other = _admin_log_in(client, "admin", "password", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 302
    client.logout()
    locked = _admin_log_in(client, "admin", "password", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429


def test_a_management_command_authenticate_is_not_a_log_in_attempt(admin_user):
    from django.contrib.auth import authenticate

    assert authenticate(username="admin", password="password") == admin_user
    assert authenticate(username="admin", password="wrong") is None
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),
        (2, "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"),
        (2, "1.1.1.1", "1.1.1.1"),  # fewer entries: all written by trusted proxies
        (1, "", "10.0.0.1"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    rf, settings, count, forwarded, expected
):
    settings.ICI_TRUSTED_PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
