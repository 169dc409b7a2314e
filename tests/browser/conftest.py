"""Browser tests: Playwright (the Python package) driving Debian's Chromium,
headless, against pytest-django's live server. No browser is downloaded: the
tests use /usr/bin/chromium (`make test` installs Debian's chromium package when
it can), or the browser named by ICI_CHROMIUM.

Without a Chromium these tests skip, except under CI=true, where they fail.
Screenshots go to test-artifacts/screenshots/ (ICI_TEST_ARTIFACTS overrides the
folder): `shot(page, "name")`. The README's screenshots, docs/screenshots/*.png,
are rewritten only when ICI_UPDATE_SCREENSHOTS=1: `docs_shot(page, "name")`
writes to test-artifacts/docs-screenshots/ otherwise, so that a test run does
not change committed files.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop in this thread; the ORM calls the
# tests make between browser steps are plain synchronous code all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("ICI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(
    os.environ.get("ICI_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts"
)
VIEWPORT = {"width": 1280, "height": 860}
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _missing(reason: str):
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI runs the browser tests; `make test` installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db, catalogs):
    """A fresh browser context (no cookies) on the live server; fails a test on
    any page error or failed request to the live server."""
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture
def shot():
    """shot(page, name): a full-page screenshot saved as a test artifact."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def docs_screenshots_folder() -> Path:
    """docs/screenshots/ when ICI_UPDATE_SCREENSHOTS=1, else a test artifacts folder."""
    if os.environ.get("ICI_UPDATE_SCREENSHOTS", "") == "1":
        return DOCS_SCREENSHOTS
    return ARTIFACTS / "docs-screenshots"


@pytest.fixture
def docs_shot():
    """docs_shot(page, name, **options): a screenshot for the README (see the module's
    docstring for where it goes); options are Playwright's (full_page, mask, ...)."""
    folder = docs_screenshots_folder()
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, **options) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), **options)
        return path

    return take


@pytest.fixture
def log_in(page):
    """log_in(username, password="portal-pass-123"): through the portal's log-in page."""

    def go(username: str, password: str = "portal-pass-123"):
        page.goto("/portal/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()

    return go
