"""Users and clients, additive (issue 13, item 6): adding a biller to an existing
API client keeps its token, and to an existing portal user keeps its password.
`--replace` still rotates a client's token. Both can be done in the admin."""

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from billers.models import ApiClient, BillerMembership
from tests.billers.factories import BillerFactory, PortalUserFactory

pytestmark = pytest.mark.django_db


def _run(command, *args) -> list[str]:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().rstrip("\n").splitlines()


def _answers(token: str, bid: int) -> str:
    """What the API answers this token for a biller, with no partner call: 404
    biller_not_found when out of scope, authentication_failed when the token
    does not work, else payment_not_found (the payment does not exist)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    guid = "c9e18d52-e770-4935-8da2-9f262c8ba587"
    return client.get(f"/api/v1/billers/{bid}/payments/{guid}").json()["code"]


# --- API clients -----------------------------------------------------------------


def test_create_api_client_adds_a_biller_to_an_existing_client_and_keeps_its_token(presets):
    token = _run("create_api_client", "payer-site", "--biller", "2249")[-1]
    assert _answers(token, 1367) == "biller_not_found"

    lines = _run("create_api_client", "payer-site", "--biller", "1367")

    client = ApiClient.objects.get()
    assert sorted(client.billers.values_list("bid", flat=True)) == [1367, 2249]
    assert "billers added: 1367; it is now for billers 1367, 2249" in lines[0]
    assert f"Its token is unchanged ({client.token_prefix}...)" in lines[-1]
    assert not any(line.startswith("ici_") for line in lines)  # no token printed
    # the same token now reaches the added biller (and still the first)
    assert _answers(token, 1367) == "payment_not_found"
    assert _answers(token, 2249) == "payment_not_found"


def test_adding_a_biller_a_client_has_changes_nothing(presets):
    token = _run("create_api_client", "payer-site", "--biller", "2249")[-1]

    lines = _run("create_api_client", "payer-site", "--biller", "2249")

    assert "billers added: none (it had them all)" in lines[0]
    assert _answers(token, 2249) == "payment_not_found"


def test_replace_rotates_the_token_and_keeps_the_scope(presets):
    old = _run("create_api_client", "payer-site", "--biller", "2249")[-1]
    client_id = ApiClient.objects.get().pk

    lines = _run("create_api_client", "payer-site", "--biller", "1367", "--replace")

    new = lines[-1]
    assert new.startswith("ici_") and new != old
    assert "new token (the old one no longer works)" in lines[-2]
    client = ApiClient.objects.get()
    assert client.pk == client_id  # the same client: its history stays attached
    assert sorted(client.billers.values_list("bid", flat=True)) == [1367, 2249]
    assert _answers(old, 2249) == "authentication_failed"
    assert _answers(new, 2249) == "payment_not_found"


def test_adding_an_unknown_biller_to_a_client_changes_nothing(presets):
    token = _run("create_api_client", "payer-site", "--biller", "2249")[-1]

    with pytest.raises(CommandError, match="No biller with BID 4242"):
        _run("create_api_client", "payer-site", "--biller", "1367", "--biller", "4242")

    client = ApiClient.objects.get()
    assert list(client.billers.values_list("bid", flat=True)) == [2249]
    assert _answers(token, 2249) == "payment_not_found"


def test_the_api_client_admin_adds_a_biller_and_keeps_the_token(presets, admin_client):
    token = _run("create_api_client", "payer-site", "--biller", "2249")[-1]
    client = ApiClient.objects.get()
    url = reverse("admin:billers_apiclient_change", args=[client.pk])

    response = admin_client.post(
        url,
        {"name": "payer-site", "billers": [presets["peoria"].pk, presets["imt"].pk],
         "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    assert sorted(client.billers.values_list("bid", flat=True)) == [1367, 2249]
    assert _answers(token, 1367) == "payment_not_found"


def test_the_admin_adds_an_api_client_and_shows_its_token_once(presets, admin_client):
    url = reverse("admin:billers_apiclient_add")
    assert presets["peoria"].pk in [
        b.pk for b in admin_client.get(url + "?biller=2249").context["form"].initial["billers"]
    ]

    response = admin_client.post(url, {"name": "payer-site", "billers": [presets["peoria"].pk]})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = response.context["saved"].token
    assert token.startswith("ici_") and token in response.content.decode()
    client = ApiClient.objects.get()
    assert list(client.billers.values_list("bid", flat=True)) == [2249]
    assert (
        token
        not in admin_client.get(
            reverse("admin:billers_apiclient_change", args=[client.pk])
        ).content.decode()
    )
    assert _answers(token, 2249) == "payment_not_found"
    assert _answers(token, 1367) == "biller_not_found"


def test_the_admin_refuses_an_api_client_name_that_exists_and_keeps_its_token(
    presets, admin_client
):
    token = _run("create_api_client", "payer-site", "--biller", "2249")[-1]

    response = admin_client.post(
        reverse("admin:billers_apiclient_add"),
        {"name": "payer-site", "billers": [presets["imt"].pk]},
    )

    assert response.status_code == 200
    assert "exists: add billers on its page" in response.content.decode()
    assert _answers(token, 2249) == "payment_not_found"
    assert list(ApiClient.objects.get().billers.values_list("bid", flat=True)) == [2249]


# --- portal users ----------------------------------------------------------------


@pytest.fixture
def ann(db):
    """An existing portal user of one biller, with her own password."""
    return PortalUserFactory(username="ann", billers=[BillerFactory(bid=3001)])


def test_create_portal_user_adds_a_biller_without_asking_for_or_changing_the_password(
    ann, monkeypatch
):
    other = BillerFactory(bid=3002)
    monkeypatch.delenv("ICI_PORTAL_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("asked for a password"))
    password_hash = ann.password

    lines = _run("create_portal_user", "ann", "--biller", str(other.bid))

    ann.refresh_from_db()
    assert ann.password == password_hash
    assert authenticate(username="ann", password="portal-pass-123") == ann
    assert sorted(m.biller.bid for m in ann.biller_memberships.all()) == [3001, 3002]
    assert lines == [
        "Portal user ann exists: billers added: 3002; it is now for billers 3001, 3002. "
        "Its password is unchanged."
    ]


def test_ici_portal_password_is_ignored_for_an_existing_user(ann, monkeypatch):
    monkeypatch.setenv("ICI_PORTAL_PASSWORD", "someone-elses-new-password")

    _run("create_portal_user", "ann", "--biller", "3001")

    assert authenticate(username="ann", password="portal-pass-123") is not None
    assert authenticate(username="ann", password="someone-elses-new-password") is None


def test_a_new_portal_user_gets_the_password_as_before(db, monkeypatch):
    BillerFactory(bid=3001)
    monkeypatch.setenv("ICI_PORTAL_PASSWORD", "a-long-portal-password")

    lines = _run("create_portal_user", "bob", "--biller", "3001")

    assert lines == ["Portal user bob for billers 3001."]
    assert authenticate(username="bob", password="a-long-portal-password") is not None


def test_a_new_portal_user_is_asked_for_the_password_twice(db, monkeypatch):
    BillerFactory(bid=3001)
    monkeypatch.delenv("ICI_PORTAL_PASSWORD", raising=False)
    monkeypatch.setattr("os.isatty", lambda fd: True)
    answers = iter(["typed-portal-password", "typed-portal-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    _run("create_portal_user", "bob", "--biller", "3001")

    assert authenticate(username="bob", password="typed-portal-password") is not None


def test_an_admin_account_is_not_made_a_portal_user(db, admin_user, monkeypatch):
    BillerFactory(bid=3001)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("asked for a password"))

    with pytest.raises(CommandError, match="is an admin user"):
        _run("create_portal_user", admin_user.username, "--biller", "3001")

    assert not BillerMembership.objects.exists()


def test_the_user_page_lists_the_portal_billers_and_adds_one(ann, admin_client):
    other = BillerFactory(bid=3002, name="Third City")
    password_hash = ann.password
    change = reverse("admin:auth_user_change", args=[ann.pk])
    add = reverse("admin:auth_user_portal_billers", args=[ann.pk])

    page = admin_client.get(change).content.decode()
    assert "Portal billers" in page and "3001" in page and add in page
    form = admin_client.get(add).content.decode()
    assert "3002 Third City" in form or "Third City" in form

    response = admin_client.post(add, {"billers": [other.pk]})

    assert response.status_code == 302 and response["Location"] == change
    ann.refresh_from_db()
    assert ann.password == password_hash
    assert sorted(m.biller.bid for m in ann.biller_memberships.all()) == [3001, 3002]
    assert "3002" in admin_client.get(change).content.decode()


def test_the_user_page_refuses_to_make_an_admin_a_portal_user(admin_client, admin_user):
    biller = BillerFactory(bid=3001)
    add = reverse("admin:auth_user_portal_billers", args=[admin_user.pk])

    response = admin_client.post(add, {"billers": [biller.pk]})

    assert response.status_code == 200
    assert "is an admin user" in response.content.decode()
    assert not BillerMembership.objects.exists()


def test_the_demo_portal_still_resets_its_clerks_password(presets, settings, monkeypatch):
    from payments.management.commands.demo_portal import Command

    settings.ICI_MODE = "demo"
    monkeypatch.setattr(Command, "_history", lambda self, biller, n: [])
    first = _run("demo_portal")[-1].split(" / ")[1]
    second = _run("demo_portal")[-1].split(" / ")[1]

    assert first != second
    assert authenticate(username="clerk", password=second) is not None
    assert get_user_model().objects.filter(username="clerk").count() == 1
