"""Logging in to the portal in a real browser."""

from playwright.sync_api import expect

from tests.billers.factories import BillerFactory, PortalUserFactory


def test_a_user_logs_in_sees_its_billers_and_logs_out(page, log_in, shot):
    ours = BillerFactory(name="City of Example")
    also = BillerFactory(name="Example Water")
    BillerFactory(name="Not Ours At All")
    PortalUserFactory(username="clerk", billers=[ours, also])

    page.goto("/portal/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "portal-login")

    log_in("clerk", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")

    log_in("clerk")
    expect(page.get_by_role("heading", name="Your billers")).to_be_visible()
    expect(page.get_by_role("link", name="City of Example")).to_be_visible()
    expect(page.get_by_role("link", name="Example Water")).to_be_visible()
    expect(page.get_by_text("Not Ours At All")).to_have_count(0)
    shot(page, "portal-billers")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
