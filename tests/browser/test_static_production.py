"""Static files under production settings: DEBUG off, `collectstatic` into a
fresh ICI_VAR_DIR, gunicorn serving the hub with whitenoise, as README's
"Deploying" section runs it. The admin and the Swagger UI at /api/docs/ render
styled."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORT

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def production_hub(tmp_path_factory):
    """The hub under gunicorn in production mode, after collectstatic; its base URL."""
    var = tmp_path_factory.mktemp("production-var")
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ICI_", "DATABASE_URL"))
    }
    environ.update(
        ICI_MODE="production",
        DJANGO_DEBUG="False",
        DJANGO_SECRET_KEY="static-files-test-" + "k" * 50,
        ICI_FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        ICI_VAR_DIR=str(var),
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=environ,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (var / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "icintegrations.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--access-logfile", "-"],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/admin/login/", timeout=10)
                break
            except requests.RequestException:  # not listening yet, or still importing
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + (var / "gunicorn.log").read_text())
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture
def hub_page(browser, production_hub):
    """A browser page on the production hub; fails the test on a page error, a
    console error or a static file that did not load."""
    context = browser.new_context(base_url=production_hub, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if "/static/" in response.url and response.status != 200
            else None
        ),
    )
    yield page
    context.close()
    assert not problems, problems


def test_debug_is_off(production_hub):
    response = requests.get(f"{production_hub}/no-such-page", timeout=5)

    assert response.status_code == 404
    assert "URLconf" not in response.text  # Django's DEBUG page would list the patterns


def test_the_admin_login_page_is_styled_from_hashed_static_files(hub_page, shot):
    hub_page.goto("/admin/login/")

    expect(hub_page.get_by_role("button", name="Log in")).to_be_visible()
    stylesheets = hub_page.eval_on_selector_all(
        "link[rel=stylesheet]", "links => links.map(link => link.getAttribute('href'))"
    )
    assert any(re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", s) for s in stylesheets)
    header = hub_page.eval_on_selector("#header", "h => getComputedStyle(h).backgroundColor")
    assert header not in {"rgba(0, 0, 0, 0)", "transparent"}  # base.css gives it a colour
    shot(hub_page, "production-admin-login")


def test_static_files_are_compressed_and_cached_for_good(hub_page, production_hub):
    hub_page.goto("/admin/login/")
    href = hub_page.eval_on_selector("link[href*='admin/css/base.']", "l => l.getAttribute('href')")

    response = requests.get(f"{production_hub}{href}", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]


def test_the_api_docs_render_the_swagger_ui(hub_page, shot):
    hub_page.goto("/api/docs/")

    expect(hub_page.locator(".swagger-ui .info .title")).to_contain_text("icintegrations API")
    expect(hub_page.locator(".swagger-ui .opblock").first).to_be_visible()
    operations = hub_page.locator(".swagger-ui .opblock-summary-path")
    expect(operations.filter(has_text="/payments").first).to_be_visible()
    shot(hub_page, "production-api-docs")
