"""A Solutions Engineer reviews a biller's mapping in a real browser."""

import re

from playwright.sync_api import expect

from tests.support.invoicefiles import HEADER, imt_row


def test_a_solutions_engineer_reviews_a_sample_and_sees_the_bad_row(
    page, shot, presets, django_user_model
):
    imt = presets["imt"]
    django_user_model.objects.create_superuser("se", "se@example.test", "se-pass-123")

    page.goto(f"/admin/billers/biller/{imt.pk}/change/")
    page.get_by_label("Username").fill("se")
    page.get_by_label("Password").fill("se-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Mapping review").click()

    expect(page.get_by_role("heading", name=re.compile("Field mapping of 1367"))).to_be_visible()
    for caption in ("IH Invoice Header", "CR Customer Record", "ID Invoice Detail"):
        expect(page.get_by_text(caption, exact=True)).to_be_visible()

    page.get_by_label("Sample partner record").fill(
        HEADER + "\n" + imt_row("INV77", due="next Tuesday")
    )
    page.get_by_role("button", name="Review").click()

    due_date = page.locator("#mapping-12")
    expect(due_date).to_have_class("mapping-error")
    expect(due_date).to_contain_text("'next Tuesday' is not a date")
    expect(page.locator("tr.mapping-error")).to_have_count(1)
    expect(page.locator("#bif-rows")).to_contain_text("IH|N||INV77|2026-10-01||50.00|")
    expect(page.locator("#bif-rows")).to_contain_text("CR|0406|Jane Roe|1 Main St|")
    due_date.scroll_into_view_if_needed()
    shot(page, "admin-mapping-review")
