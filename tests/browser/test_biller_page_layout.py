"""The biller's page fits a 1,366 px screen (issue 13, item 7): before, Peoria's
page was 2,707 px wide and the mapping's rule columns were off-screen."""

from playwright.sync_api import expect

SCREEN = {"width": 1366, "height": 900}


def _open_biller_page(page, django_user_model, biller):
    django_user_model.objects.create_superuser("se", "se@example.test", "se-pass-123")
    page.set_viewport_size(SCREEN)
    page.goto(f"/admin/billers/biller/{biller.pk}/change/")
    page.get_by_label("Username").fill("se")
    page.get_by_label("Password").fill("se-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Field mappings")).to_be_visible()


def _right_edge(locator) -> float:
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    return box["x"] + box["width"]


def test_the_biller_page_fits_a_1366_px_screen_with_the_sidebar_open(
    page, shot, docs_shot, presets, django_user_model
):
    _open_biller_page(page, django_user_model, presets["peoria"])

    expect(page.locator("#nav-sidebar")).to_be_visible()  # the admin's default
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]

    # Every column of the mapping is on the screen: the rule, its value, the note.
    row = page.locator("#field_mappings-0")
    for column in ("rule", "rule_value", "note"):
        header = page.locator(f"#field_mappings-group thead th.column-{column}")
        expect(header).to_be_visible()
        assert _right_edge(header) <= SCREEN["width"], column
    for field in ("rule", "rule_value", "note", "partner_field"):
        widget = row.locator(f"[name=field_mappings-0-{field}]")
        expect(widget).to_be_visible()
        assert _right_edge(widget) <= SCREEN["width"], field
    expect(row.locator("[name=field_mappings-0-rule]")).to_have_value("constant")
    # The settings too: the value and the secret field are on the screen.
    secret = page.locator("[name=settings-0-new_secret]")
    assert _right_edge(secret) <= SCREEN["width"]

    docs_shot(page, "biller-page-1366")  # docs/screenshots/ when ICI_UPDATE_SCREENSHOTS=1
    page.locator("#field_mappings-heading").evaluate("heading => heading.scrollIntoView()")
    docs_shot(page, "biller-page-mapping-1366")
    shot(page, "admin-biller-page")


def test_a_mapping_row_added_on_the_compact_page_is_saved(page, presets, django_user_model):
    peoria = presets["peoria"]
    _open_biller_page(page, django_user_model, peoria)

    page.get_by_role("button", name="Add another Field mapping").click()
    new = page.locator("#field_mappings-group tr.form-row:not(.empty-form)").last
    prefix = new.get_attribute("id")
    new.locator(f"[name={prefix}-record_type]").select_option("ID")
    new.locator(f"[name={prefix}-file_spec_id]").fill("71")
    new.locator(f"[name={prefix}-ic_field]").fill("ItemDescription")
    new.locator(f"[name={prefix}-rule]").select_option("constant")
    new.locator(f"[name={prefix}-rule_value]").fill("License")
    new.locator(f"[name={prefix}-note]").fill("A constant for the demo")
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    row = peoria.field_mappings.get(file_spec_id=71)
    assert (row.record_type, row.rule, row.rule_value) == ("ID", "constant", "License")
    assert row.note == "A constant for the demo"
