"""Behind a proxy: the client address throttles and lockouts count by, HTTPS
settings read from the environment, `check --deploy` under the documented
production values, and API answers that are never cached."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import RequestFactory
from rest_framework.request import Request

from icintegrations.client_address import client_address
from icintegrations.throttling import ClientWindowThrottle
from tests.billers.factories import PortalUserFactory
from tests.support.payments import hub_invoice

ROOT = Path(__file__).resolve().parents[2]
PROXY = "10.0.0.9"

# The production values README's "Deploying" section documents (.ci/run checks them too).
DOCUMENTED = {
    "DJANGO_ALLOWED_HOSTS": "icintegrations.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://icintegrations.example.com",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
    "DJANGO_SECURE_HSTS_PRELOAD": "True",
    "DJANGO_SECURE_SSL_REDIRECT": "True",
    "ICI_TRUSTED_PROXY_COUNT": "1",
}


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/api/v1/anything", **extra)


# --- the client address ------------------------------------------------------------------


def test_with_no_trusted_proxy_a_forwarded_header_is_ignored(settings):
    settings.ICI_TRUSTED_PROXY_COUNT = 0

    spoofed = request_from("198.51.100.20", forwarded="1.2.3.4")

    assert client_address(spoofed) == "198.51.100.20"


def test_with_one_trusted_proxy_the_right_most_entry_is_the_client(settings):
    settings.ICI_TRUSTED_PROXY_COUNT = 1

    # The client forged "1.2.3.4"; the proxy appended the address it saw.
    request = request_from(PROXY, forwarded="1.2.3.4, 203.0.113.7")

    assert client_address(request) == "203.0.113.7"


def test_with_two_trusted_proxies_the_second_entry_from_the_right_is_the_client(settings):
    settings.ICI_TRUSTED_PROXY_COUNT = 2

    # load balancer -> nginx -> gunicorn: nginx appended the load balancer's address.
    request = request_from(PROXY, forwarded="1.2.3.4, 203.0.113.7, 10.0.0.2")

    assert client_address(request) == "203.0.113.7"


def test_a_trusted_proxy_without_the_header_or_with_garbage_gives_the_peer(settings):
    settings.ICI_TRUSTED_PROXY_COUNT = 1

    assert client_address(request_from(PROXY)) == PROXY
    assert client_address(request_from(PROXY, forwarded="unknown")) == PROXY
    assert client_address(request_from(PROXY, forwarded="2001:db8::7")) == "2001:db8::7"


# --- throttles and the portal's lockout count by it --------------------------------------


class LookupView:
    throttle_scope = "rtdr"


def allowed(remote: str, forwarded: str | None = None) -> bool:
    request = Request(request_from(remote, forwarded))
    return ClientWindowThrottle().allow_request(request, LookupView())


@pytest.fixture
def two_a_minute(settings, fresh_throttles):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"rtdr": "2/min"},
    }


def test_behind_a_proxy_each_client_has_its_own_throttle(settings, two_a_minute):
    settings.ICI_TRUSTED_PROXY_COUNT = 1

    first = [allowed(PROXY, "203.0.113.7") for _ in range(3)]
    other = allowed(PROXY, "203.0.113.8")

    assert first == [True, True, False]
    assert other is True


def test_without_a_trusted_proxy_a_forged_header_does_not_escape_the_throttle(
    settings, two_a_minute
):
    settings.ICI_TRUSTED_PROXY_COUNT = 0

    answers = [allowed("198.51.100.20", f"203.0.113.{n}") for n in range(3)]

    assert answers == [True, True, False]


@pytest.mark.django_db
def test_portal_failures_of_one_client_behind_the_proxy_do_not_lock_out_another(
    client, settings, fresh_throttles
):
    settings.ICI_TRUSTED_PROXY_COUNT = 1
    PortalUserFactory(username="clerk")
    for n in range(30):
        client.post(
            "/portal/login/",
            {"username": f"guess{n}", "password": "wrong"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )

    response = client.post(
        "/portal/login/",
        {"username": "clerk", "password": "portal-pass-123"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )

    assert response.status_code == 302


# --- HTTPS behind a TLS-terminating proxy ------------------------------------------------


def settings_under(environ: dict[str, str], tmp_path) -> dict:
    """The hub's settings as a production process with this environment reads them."""
    code = (
        "import json, icintegrations.settings as s; print(json.dumps({k: getattr(s, k, None) "
        "for k in ('SECURE_PROXY_SSL_HEADER', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', "
        "'ICI_TRUSTED_PROXY_COUNT')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(environ, tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def production_env(extra: dict[str, str], tmp_path) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ICI_", "DATABASE_URL"))
    }
    environ.update(
        ICI_MODE="production",
        DJANGO_SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-for-the-test-only",
        ICI_FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ICI_VAR_DIR=str(tmp_path),
    )
    environ.update(extra)
    return environ


def test_proxy_settings_are_off_by_default(tmp_path):
    values = settings_under({}, tmp_path)

    assert values == {
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_SSL_REDIRECT": False,
        "ICI_TRUSTED_PROXY_COUNT": 0,
    }


def test_proxy_settings_come_from_the_environment(tmp_path):
    values = settings_under(DOCUMENTED, tmp_path)

    assert values == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_SSL_REDIRECT": True,
        "ICI_TRUSTED_PROXY_COUNT": 1,
    }


def check_deploy(environ: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(environ, tmp_path),
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_with_the_documented_production_values(tmp_path):
    result = check_deploy(DOCUMENTED, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_https_when_nothing_is_set(tmp_path):
    result = check_deploy({"DJANGO_ALLOWED_HOSTS": "icintegrations.example.com"}, tmp_path)

    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_https_from_the_proxy_header_gets_hsts_and_plain_http_is_redirected(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000

    plain = client.get("/portal/login/", HTTP_X_FORWARDED_PROTO="http")
    secure = client.get("/portal/login/", HTTP_X_FORWARDED_PROTO="https")
    probe = client.get("/healthz", HTTP_X_FORWARDED_PROTO="http")

    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert probe.status_code != 301  # a load balancer's plain-HTTP probe is not redirected


# --- API answers are never cached --------------------------------------------------------


def test_api_answers_carry_cache_control_no_store(api, peoria, citizenserve_sandbox):
    invoice = hub_invoice(peoria, citizenserve_sandbox, "PBL26-900001", balance="10.00", fresh=True)

    found = api.get(f"/api/v1/billers/2249/invoices/{invoice.invoice_number}")
    missing = api.get("/api/v1/no-such-thing")
    anonymous = api.get("/api/v1/billers/2249/payments/unknown", HTTP_AUTHORIZATION="")

    assert found.status_code == 200
    for response in (found, missing, anonymous):
        assert response["Cache-Control"] == "no-store", response.status_code
