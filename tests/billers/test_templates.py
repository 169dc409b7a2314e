"""A new biller from a partner template or a clone: the whole configuration but
secrets, inactive in the test environment, its per-biller values given; refusals
change nothing; the admin's "Add biller from template" pages."""

import pytest
from django.urls import reverse

from billers.choices import Environment
from billers.models import (
    BifCustomization,
    Biller,
    BillerOption,
    BillerSetting,
    FieldMapping,
    InvoiceType,
)
from billers.selectors import biller_document_export, biller_setting_values
from billers.services.biller_templates import (
    biller_create,
    biller_source_clone,
    biller_source_template,
)
from billers.services.mapping_requirements import biller_mapping_problems
from billers.services.settings import biller_setting_set
from billers.templates import partner_template, partner_templates
from icintegrations.errors import ApplicationError

pytestmark = pytest.mark.django_db

GUID = "0f6f3f9e-6a55-4f0c-9a52-2d4c7c0b3001"
CS_VALUES = {"setting_8_report_ID": "700", "setting_8_installationID": "31"}
NEW = {
    "bid": 3001,
    "name": "City of Surprise AZ",
    "biller_guid": GUID,
    "time_zone": "America/Phoenix",
}


def _snapshot():
    rows = [
        sorted(model.objects.values_list("pk", flat=True))
        for model in (
            Biller,
            BillerSetting,
            BillerOption,
            BifCustomization,
            InvoiceType,
            FieldMapping,
        )
    ]
    rows += [model.history.count() for model in (Biller, BillerSetting, FieldMapping)]
    return rows


def _refused(code, source, **changes):
    before = _snapshot()
    with pytest.raises(ApplicationError) as error:
        biller_create(source=source, **{**NEW, "values": CS_VALUES, **changes})
    assert error.value.code == code
    assert _snapshot() == before
    return error.value.extra["problems"]


# --- the templates ------------------------------------------------------------------


def test_the_hub_ships_a_template_per_partner_without_any_billers_own_values():
    templates = {t.key: t for t in partner_templates()}

    assert sorted(templates) == ["citizenserve", "imt"]
    assert {t.partner for t in templates.values()} == {"CitizenServe", "IMT"}
    for template in templates.values():
        biller = template.document["biller"]
        assert not {"bid", "name", "biller_guid", "time_zone"} & set(biller)
        assert (biller["environment"], biller["is_active"]) == ("test", False)
        secrets = [s for s in template.document["settings"] if s.get("secret")]
        assert [s["setting_id"] for s in secrets] == [10, 13]
        assert all(set(s) == {"setting_id", "secret"} for s in secrets)  # no value, no env name
    rtdr_url = next(
        s for s in templates["citizenserve"].document["settings"] if s["setting_id"] == 8
    )
    assert "report_ID=&installationID=&" in rtdr_url["value"]
    assert [v.param for v in templates["citizenserve"].values] == ["report_ID", "installationID"]


@pytest.mark.parametrize("key,partner", [("citizenserve", "CitizenServe"), ("imt", "IMT")])
def test_a_biller_from_a_template_is_inactive_in_test_with_a_complete_mapping_and_no_secret(
    catalogs, admin_user, key, partner
):
    template = partner_template(key=key)

    created = biller_create(
        source=biller_source_template(key=key), **NEW, values=CS_VALUES, user=admin_user
    )

    biller = Biller.objects.get(bid=3001)
    assert created.biller == biller
    assert (biller.name, str(biller.biller_guid), biller.partner) == (NEW["name"], GUID, partner)
    assert (biller.is_active, biller.environment) == (False, Environment.TEST)
    assert biller_mapping_problems(biller=biller) == []
    assert biller.field_mappings.count() == len(template.document["field_mappings"])
    assert not BillerSetting.objects.filter(biller=biller, setting__kind="secret").exists()
    assert "Secret settings 10, 13 start empty" in " ".join(created.notes)
    record = biller.history.latest()
    assert record.history_user == admin_user
    assert record.history_change_reason == f"created from template {template.name}"


def test_citizenserve_per_biller_values_land_in_setting_8(catalogs):
    biller_create(source=biller_source_template(key="citizenserve"), **NEW, values=CS_VALUES)

    rtdr_url = biller_setting_values(biller=Biller.objects.get(bid=3001))[8]
    assert rtdr_url == (
        "https://test.citizenserve.com/Portal/PortalController?Action=getQuery"
        "&portalPageDisplay=true&report_ID=700&installationID=31&ctzPagePrefix=Portal_"
        "&ParamCount=1&Param_1="
    )


def test_an_imt_biller_gets_the_templates_options_customizations_and_invoice_types(catalogs):
    biller_create(source=biller_source_template(key="imt"), **NEW)

    biller = Biller.objects.get(bid=3001)
    assert list(biller.options.values_list("option_id", "enabled")) == [(64, True)]
    assert BifCustomization.objects.get(biller=biller, name="AllowPartialPayments").value == "No"
    assert list(InvoiceType.objects.filter(biller=biller).values_list("type_id", flat=True)) == [
        164
    ]


# --- a clone --------------------------------------------------------------------------


def test_a_clone_copies_everything_but_secrets_and_takes_its_own_values(presets, admin_user):
    peoria = presets["peoria"]
    biller_setting_set(biller=peoria, setting_id=13, value="peoria-api-key")
    biller_setting_set(biller=peoria, setting_id=10, value="peoria-rtdr-key")
    source = biller_source_clone(biller=peoria)
    assert source.initial() == {
        "time_zone": "America/Phoenix",
        "setting_8_report_ID": "641",
        "setting_8_installationID": "24",
    }

    created = biller_create(source=source, **NEW, values=CS_VALUES, user=admin_user)

    clone = created.biller
    assert (clone.is_active, clone.environment) == (False, Environment.TEST)
    assert not BillerSetting.objects.filter(biller=clone, setting__kind="secret").exists()
    original, copied = biller_document_export(biller=peoria), biller_document_export(biller=clone)
    assert copied["field_mappings"] == original["field_mappings"]
    plain = [s for s in original["settings"] if not s.get("secret") and s["setting_id"] != 8]
    assert [s for s in copied["settings"] if s in plain] == plain
    settings = biller_setting_values(biller=clone)
    assert "report_ID=700&installationID=31" in settings[8]
    assert "report_ID=641&installationID=24" in biller_setting_values(biller=peoria)[8]
    assert clone.history.latest().history_change_reason == f"created from biller {peoria}"
    assert "never copies secrets" in " ".join(created.notes)


def test_a_clone_of_a_production_biller_says_its_urls_were_copied(presets):
    imt = presets["imt"]
    Biller.objects.filter(pk=imt.pk).update(environment=Environment.PROD)
    imt.refresh_from_db()

    created = biller_create(source=biller_source_clone(biller=imt), **NEW)

    assert created.biller.environment == Environment.TEST
    assert any("URL settings were copied" in note for note in created.notes)


# --- refusals -------------------------------------------------------------------------


def test_a_taken_bid_is_refused_and_changes_nothing(presets):
    problems = _refused("biller_exists", biller_source_template(key="citizenserve"), bid=2249)

    assert problems == ["BID 2249 is taken by biller 2249 City of Peoria AZ."]


def test_a_taken_billerguid_is_refused_and_changes_nothing(presets):
    taken = str(presets["imt"].biller_guid)

    problems = _refused(
        "biller_guid_taken", biller_source_template(key="citizenserve"), biller_guid=taken
    )

    assert problems == [f"BillerGuid {taken} is taken by biller 1367 IMT Software Services."]


def test_invalid_per_biller_values_are_refused_and_change_nothing(catalogs):
    source = biller_source_template(key="citizenserve")

    problems = _refused(
        "invalid_template_value",
        source,
        values={"setting_8_report_ID": "", "setting_8_installationID": "24&x=1"},
    )

    assert problems == [
        "report_ID (setting 8): give a value.",
        "installationID (setting 8): '24&x=1' is not a whole number.",
    ]


def test_an_invalid_biller_value_is_refused_by_its_path(catalogs):
    source = biller_source_template(key="citizenserve")

    problems = _refused("invalid_document", source, time_zone="Mars/Olympus_Mons", name="")

    assert any(p.startswith("biller.time_zone") for p in problems)
    assert any(p.startswith("biller.name") for p in problems)


def test_an_unknown_template_is_refused():
    with pytest.raises(ApplicationError) as error:
        biller_source_template(key="accela")

    assert error.value.code == "unknown_template"


# --- the admin ------------------------------------------------------------------------


def test_the_billers_list_links_to_the_templates_page_which_lists_them(admin_client, presets):
    url = reverse("admin:billers_biller_add_from_template")
    assert url in admin_client.get(reverse("admin:billers_biller_changelist")).content.decode()

    page = admin_client.get(url).content.decode()

    assert 'id="template-citizenserve"' in page and 'id="template-imt"' in page
    assert "?template=citizenserve" in page
    assert '<option value="2249">2249 City of Peoria AZ (CitizenServe)</option>' in page


def test_the_admin_creates_a_biller_from_a_template_with_its_setting_8_values(
    admin_client, admin_user, catalogs
):
    url = reverse("admin:billers_biller_add_from_template")
    form = admin_client.get(url, {"template": "citizenserve"}).content.decode()
    assert 'name="setting_8_installationID"' in form and 'name="setting_8_report_ID"' in form

    response = admin_client.post(url, {"template": "citizenserve", **NEW, **CS_VALUES})

    biller = Biller.objects.get(bid=3001)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billers_biller_change", args=[biller.pk])
    assert not biller.is_active
    assert "installationID=31" in biller_setting_values(biller=biller)[8]
    assert biller.history.latest().history_user == admin_user


def test_the_admin_clone_form_shows_the_source_values_to_edit(admin_client, presets):
    url = reverse("admin:billers_biller_add_from_template")

    page = admin_client.get(url, {"clone": "2249"}).content.decode()

    assert 'name="setting_8_installationID" value="24"' in page
    assert 'name="time_zone" value="America/Phoenix"' in page
    response = admin_client.post(url, {"clone": "2249", **NEW, **CS_VALUES})
    assert response.status_code == 302
    assert Biller.objects.get(bid=3001).field_mappings.count() == 26


def test_the_admin_names_a_refusal_and_creates_nothing(admin_client, presets):
    url = reverse("admin:billers_biller_add_from_template")
    before = _snapshot()

    page = admin_client.post(url, {"template": "imt", **NEW, "bid": 1367})

    assert page.status_code == 200
    assert "BID 1367 is taken by biller 1367 IMT Software Services." in page.content.decode()
    assert _snapshot() == before
    missing = admin_client.get(url, {"clone": "9999"}).content.decode()
    assert "No biller with BID 9999." in missing
