"""Measured: the whole onboarding of a biller in the browser (issue 13, item 8).

A Solutions Engineer onboards a third CitizenServe city, BID 3001, through the
admin alone: from the CitizenServe template (its own report_ID and
installationID in setting 8), its URLs pointed at the CitizenServe sandbox and
its secrets entered, a mapping review with a live lookup, a connection test, an
API client (its token shown once) and a portal user, then activation. Then the
payer site's calls, with that token, reach the sandbox: a lookup carrying the
new biller's installationID, and a payment that lands in the sandbox's ledger.

Every page action (goto, click, fill, select, check, file upload) goes through
`Actions`, which counts them; the README's "Onboarding a biller" states the
count. The screenshots are the README's (docs/screenshots/onboarding-*.png,
rewritten only when ICI_UPDATE_SCREENSHOTS=1).
"""

import uuid
from decimal import Decimal

import pytest
import requests
from playwright.sync_api import expect

from billers.models import Biller
from payments.models import Payment, PaymentStatus
from tests.support.partners import CITIZENSERVE_KEY
from tests.support.payments import pump

SCREEN = {"width": 1366, "height": 900}
BID = 3001
INSTALLATION_ID = "57"  # Peoria's is 24: the new city's own installation
REPORT_ID = "733"
REVIEWED_LICENSE = "PBL26-000003"  # licenses the sandbox knows (its demo data)
PAID_LICENSE = "PBL26-000007"
# The page actions the onboarding takes, counted by Actions (the README states it).
ONBOARDING_ACTIONS = 44


class Actions:
    """The page actions a person takes, each counted: goto, click, fill, select,
    check, file upload. Reading the page (locating, asserting) is not an action."""

    def __init__(self, page):
        self.page = page
        self.count = 0
        self.log: list[str] = []

    def _did(self, what: str) -> None:
        self.count += 1
        self.log.append(what)

    def goto(self, url: str) -> None:
        self._did(f"goto {url}")
        self.page.goto(url)

    def click(self, locator) -> None:
        self._did(f"click {locator}")
        locator.click()

    def fill(self, locator, value: str) -> None:
        self._did(f"fill {locator}")
        locator.fill(value)

    def select(self, locator, value) -> None:
        self._did(f"select {locator}")
        locator.select_option(value)

    def check(self, locator) -> None:
        self._did(f"check {locator}")
        locator.check()

    def upload(self, locator, files) -> None:
        self._did(f"upload {locator}")
        locator.set_input_files(files)


def _setting(page, setting_id: int, field: str):
    """The `field` widget (value, new_secret) of the settings row of `setting_id`."""
    prefix = page.evaluate(
        """id => [...document.querySelectorAll("select[name^='settings-'][name$='-setting']")]
              .find(s => s.value === String(id)).name.replace(/-setting$/, '')""",
        setting_id,
    )
    return page.locator(f"[name={prefix}-{field}]")


def _biller_link(page):
    return page.get_by_role("link", name=f"{BID} City of Glendale AZ").first


@pytest.fixture
def se(django_user_model):
    return django_user_model.objects.create_superuser("se", "se@example.test", "se-pass-123")


def test_a_solutions_engineer_onboards_a_citizenserve_city_through_the_admin_alone(
    page, docs_shot, se, live_server, citizenserve_sandbox
):
    sandbox = citizenserve_sandbox
    page.set_viewport_size(SCREEN)
    act = Actions(page)

    # Log in.
    act.goto("/admin/billers/biller/")
    act.fill(page.get_by_label("Username"), "se")
    act.fill(page.get_by_label("Password"), "se-pass-123")
    act.click(page.get_by_role("button", name="Log in"))

    # 1. From the CitizenServe template: the biller's own values.
    act.click(page.get_by_role("link", name="Add biller from template"))
    act.click(page.locator("#template-citizenserve").get_by_role("link", name="Use this template"))
    act.fill(page.get_by_label("BID"), str(BID))
    act.fill(page.get_by_label("Name"), "City of Glendale AZ")
    act.fill(page.get_by_label("BillerGuid"), str(uuid.uuid4()))
    act.fill(page.get_by_label("Time zone"), "America/Phoenix")
    act.fill(page.get_by_label("report_ID (setting 8)"), REPORT_ID)
    act.fill(page.get_by_label("installationID (setting 8)"), INSTALLATION_ID)
    docs_shot(page, "onboarding-1-template", full_page=True)
    act.click(page.get_by_role("button", name="Create biller"))
    expect(page.locator(".messagelist")).to_contain_text("inactive, in the test environment")
    biller = Biller.objects.get(bid=BID)
    assert (biller.is_active, biller.environment) == (False, "test")

    # 2. Settings: the URLs at the sandbox (the template's are CitizenServe's test
    # site), the secrets entered (write-only fields).
    for setting_id in (8, 11):
        value = _setting(page, setting_id, "value")
        url = value.input_value()
        assert url.startswith("https://test.citizenserve.com/")
        act.fill(value, url.replace("https://test.citizenserve.com", sandbox.url))
    # The template leaves its secret settings out (10, 13): a row each, typed in.
    for setting_id, secret in ((10, "glendale-rtdr-key"), (13, CITIZENSERVE_KEY)):
        act.click(page.get_by_role("button", name="Add another Biller setting"))
        row = page.locator("#settings-group tr.form-row:not(.empty-form)").last
        act.select(row.locator("select[name$='-setting']"), str(setting_id))
        act.fill(row.locator("input[name$='-new_secret']"), secret)
    act.click(page.get_by_role("button", name="Save and continue editing"))
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    checklist = page.locator("#go-live")
    expect(checklist.locator("[data-key=settings]")).to_have_class("go-live-item go-live-ok")
    expect(checklist.locator("[data-key=mapping]")).to_have_class("go-live-item go-live-ok")
    docs_shot(page, "onboarding-2-settings")

    # 3. A mapping review with a live lookup at the sandbox.
    act.click(page.get_by_role("link", name="Mapping review"))
    act.fill(page.get_by_label("Or an invoice number, looked up live"), REVIEWED_LICENSE)
    act.click(page.get_by_role("button", name="Review"))
    expect(page.locator("#review-result")).to_contain_text("live lookup")
    expect(page.locator("#mapping")).to_contain_text("The record maps without an error")
    expect(page.locator("#partner-record")).to_contain_text(REVIEWED_LICENSE)
    expect(page.locator("#bif-rows")).to_contain_text(REVIEWED_LICENSE)
    page.locator("#review-result").scroll_into_view_if_needed()
    docs_shot(page, "onboarding-3-mapping-review")
    act.click(page.locator(".breadcrumbs").get_by_role("link", name=f"{BID} City of Glendale AZ"))

    # 4. A connection test.
    act.click(page.get_by_role("link", name="Test connection"))
    act.click(page.get_by_role("button", name="Test connection"))
    expect(page.locator("#connection-result")).to_be_visible()
    expect(page.locator(".endpoint-check").first).to_contain_text("Reached")
    docs_shot(page, "onboarding-4-connection-test", full_page=True)
    act.click(page.locator(".breadcrumbs").get_by_role("link", name=f"{BID} City of Glendale AZ"))
    for key in ("mapping_review", "connection_test"):
        expect(checklist.locator(f"[data-key={key}]")).to_have_class("go-live-item go-live-ok")

    # 5. An API client, from the checklist: its token is shown once.
    act.click(page.get_by_role("link", name="Add an API client"))
    act.fill(page.get_by_label("Name"), "glendale-payer-site")
    act.click(page.get_by_role("button", name="Create API client"))
    token = page.locator("#token").inner_text().strip()
    assert token.startswith("ici_")
    docs_shot(page, "onboarding-5-api-client", mask=[page.locator("#token")])
    act.click(page.get_by_role("link", name=f"Back to biller {BID} City of Glendale AZ"))

    # 6. A portal user: a Django user, then the biller added to it.
    act.click(page.get_by_role("link", name="Add a portal user"))
    act.fill(page.get_by_label("Username"), "glendale-clerk")
    act.fill(page.locator("#id_password1"), "Saguaro-ledger-2026")
    act.fill(page.locator("#id_password2"), "Saguaro-ledger-2026")
    act.click(page.get_by_role("button", name="Save", exact=True))
    act.click(page.get_by_role("link", name="Add billers…"))
    act.check(page.get_by_label(f"{BID} City of Glendale AZ"))
    act.click(page.get_by_role("button", name="Add billers"))
    expect(page.locator(".messagelist")).to_contain_text(f"added to billers {BID}")

    # 7. Activation: the checklist is complete.
    act.click(_biller_link(page))
    expect(page.locator("#go-live summary")).to_contain_text("6 of 6 done, complete")
    act.click(page.locator("#go-live summary strong"))  # a complete checklist is folded
    act.click(page.get_by_role("button", name="Activate"))
    expect(page.locator(".messagelist")).to_contain_text("Activated.")
    expect(page.locator("#go-live summary")).to_contain_text("environment Test, active")
    page.locator("#go-live").evaluate("panel => panel.open = true")  # for the screenshot
    docs_shot(page, "onboarding-6-activated")
    biller.refresh_from_db()
    assert (biller.is_active, biller.environment) == (True, "test")

    print(f"\nOnboarding BID {BID} through the admin: {act.count} page actions")
    assert act.count == ONBOARDING_ACTIONS, act.log

    # Then the payer site, with the new token: a lookup and a payment reach the sandbox.
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    base = f"{live_server.url}/api/v1/billers/{BID}"
    lookup = api.get(f"{base}/invoices/{PAID_LICENSE}", timeout=10)
    assert lookup.status_code == 200, lookup.text
    invoice = lookup.json()
    assert invoice["balance_due"] == "100.00"
    last_lookup = [q for q in sandbox.ledger.queries if q["operation"] == "lookup"][-1]
    assert last_lookup["query"]["Param_1"] == PAID_LICENSE
    assert last_lookup["query"]["installationID"] == INSTALLATION_ID
    assert last_lookup["query"]["report_ID"] == REPORT_ID

    guid = str(uuid.uuid4())
    paid = api.post(
        f"{base}/payments",
        json={
            "payment_guid": guid,
            "invoice_number": PAID_LICENSE,
            "account_number": invoice["account_number"],
            "amount": "100.00",
            "service_fee": "1.95",
            "payment_source": "Web CC",
            "approval_code": "5550123",
            "payer_name": "Demo Owner",
            "paid_at": "2026-11-20T10:15:00-07:00",
        },
        timeout=10,
    )
    assert paid.status_code == 202, paid.text
    pump()  # the tests' worker: every due delivery, run now
    assert Payment.objects.get(payment_guid=guid).status == PaymentStatus.POSTED
    (applied,) = sandbox.ledger.payments_for(guid)
    assert applied["body"]["installationID"] == int(INSTALLATION_ID)
    assert applied["body"]["licenseNumber"] == PAID_LICENSE
    assert Decimal(applied["amount"]) == Decimal("100.00")
    assert sandbox.ledger.get_invoice(PAID_LICENSE)["balancedue"] == 0
