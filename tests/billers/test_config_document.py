"""Biller configuration documents: export, the dry run, all-or-nothing import,
secrets, refusals named by their JSON path, the commands and the admin pages."""

import copy
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from billers.models import (
    BifCustomization,
    Biller,
    BillerOption,
    BillerSetting,
    FieldMapping,
    InvoiceType,
)
from billers.selectors import biller_document_export
from billers.services.config_document import biller_document_apply, biller_document_diff
from billers.services.settings import biller_setting_set
from icintegrations.errors import ApplicationError
from tests.billers.factories import InvoiceFactory

pytestmark = pytest.mark.django_db

NEW_GUID = "0f6f3f9e-6a55-4f0c-9a52-2d4c7c0b3001"


def _snapshot():
    """Every configuration row and the audit trail's length."""
    rows = []
    for model in (Biller, BillerSetting, BillerOption, BifCustomization, InvoiceType, FieldMapping):
        rows.append(sorted(model.objects.values_list("pk", flat=True)))
    for model in (Biller, BillerSetting, BillerOption, BifCustomization, FieldMapping):
        rows.append(model.history.count())
    rows.append(sorted(Biller.objects.values_list("updated_at", flat=True)))
    rows.append(sorted(FieldMapping.objects.values_list("partner_field", flat=True)))
    return rows


def _as_new_biller(document, bid=3001, guid=NEW_GUID, name="City of Surprise AZ"):
    """A copy of an exported document for another biller, as a third city would start."""
    document = copy.deepcopy(document)
    document["biller"].update(bid=bid, biller_guid=guid, name=name, is_active=False)
    return document


def _refused(document, code="invalid_document"):
    before = _snapshot()
    with pytest.raises(ApplicationError) as error:
        biller_document_apply(document=document)
    assert error.value.code == code
    assert _snapshot() == before
    return error.value.extra["problems"]


# --- export -----------------------------------------------------------------------------


def test_the_export_is_the_presets_schema_with_a_format(presets):
    document = biller_document_export(biller=presets["imt"])
    assert document["format"] == 1
    assert document["biller"]["bid"] == 1367
    assert document["biller"]["maximum_payment"] == "100000.00"
    assert [row["file_spec_id"] for row in document["field_mappings"]][:3] == [1, 2, 4]
    assert document["options"] == [{"option_id": 64, "enabled": True}]
    assert document["invoice_types"][0] == {
        "type_id": 164,
        "name": "Insurance1",
        "virtual_site": True,
        "note": document["invoice_types"][0]["note"],
    }
    json.dumps(document)  # plain JSON


def test_secrets_are_never_exported_only_whether_they_are_set(presets):
    peoria = presets["peoria"]
    biller_setting_set(biller=peoria, setting_id=13, value="api-key-never-shown")
    document = biller_document_export(biller=peoria)
    assert "api-key-never-shown" not in json.dumps(document)
    secrets = {item["setting_id"]: item for item in document["settings"] if item.get("secret")}
    assert secrets == {13: {"setting_id": 13, "secret": True, "set": True}}


# --- round trip, dry run, apply -----------------------------------------------------------


def test_exporting_an_imported_document_gives_the_same_document(presets):
    document = _as_new_biller(biller_document_export(biller=presets["peoria"]))
    diff = biller_document_apply(document=document)
    assert diff.creates
    assert biller_document_export(biller=Biller.objects.get(bid=3001)) == document
    # Imported again, it changes nothing.
    assert biller_document_apply(document=document).is_empty


def test_a_new_biller_imported_starts_inactive_in_test_whatever_the_document_says(presets):
    document = _as_new_biller(biller_document_export(biller=presets["peoria"]))
    document["biller"].update(is_active=True, environment="prod")

    dry_run = biller_document_diff(document=document)
    diff = biller_document_apply(document=document)

    for said in (dry_run, diff):
        assert any(
            "environment 'prod', is_active True ignored: a new biller starts inactive, in the "
            "test environment" in line
            for line in said.lines()
        ), said.lines()
    biller = Biller.objects.get(bid=3001)
    assert (biller.is_active, biller.environment) == (False, "test")


def test_an_import_never_changes_whether_a_biller_is_active_nor_its_environment(presets):
    peoria = presets["peoria"]
    assert (peoria.is_active, peoria.environment) == (True, "test")
    document = biller_document_export(biller=peoria)
    document["biller"].update(is_active=False, environment="prod", name="Peoria (renamed)")

    diff = biller_document_apply(document=document)

    peoria.refresh_from_db()
    assert (peoria.is_active, peoria.environment) == (True, "test")
    assert peoria.name == "Peoria (renamed)"  # the rest of the document applies
    assert (
        "biller: environment 'prod', is_active False ignored: an import does not change "
        "whether a biller is active nor its environment; use its go-live checklist "
        "(Activate, Promote to production)."
    ) in diff.notes


def test_the_dry_run_lists_the_differences_and_changes_nothing(presets):
    imt = presets["imt"]
    document = biller_document_export(biller=imt)
    document["biller"]["name"] = "IMT Software Services LLC"
    document["field_mappings"][-2]["partner_field"] = "registration_value"
    document["settings"] = [s for s in document["settings"] if s["setting_id"] != 64]
    document["options"][0]["enabled"] = False
    before = _snapshot()

    diff = biller_document_diff(document=document)

    assert _snapshot() == before
    assert not diff.creates
    lines = diff.lines()
    assert lines[0] == "Biller 1367 (an existing biller): 4 difference(s)"
    assert "biller:" in lines
    assert any("name 'IMT Software Services' -> 'IMT Software Services LLC'" in x for x in lines)
    assert "  - setting 64" in lines
    assert "  ~ option 64: enabled True -> False" in lines
    assert any(
        x.startswith("  ~ FileSpecID 69 RegistrationValue (CR): partner_field") for x in lines
    )
    assert "bif_customizations: no change" in lines


def test_applying_changes_what_the_dry_run_said_and_records_who(presets, admin_user):
    imt = presets["imt"]
    document = biller_document_export(biller=imt)
    document["field_mappings"][-2]["partner_field"] = "registration_value"
    document["bif_customizations"].append({"name": "MinimumAmountDue", "value": "5.00", "note": ""})

    diff = biller_document_apply(document=document, user=admin_user)

    assert diff.change_count == 2
    row = FieldMapping.objects.get(biller=imt, file_spec_id=69)
    assert row.partner_field == "registration_value"
    record = row.history.latest()
    assert (record.history_user, record.history_change_reason) == (
        admin_user,
        "configuration document imported",
    )
    assert imt.history.latest().history_user == admin_user
    assert BifCustomization.objects.get(biller=imt, name="MinimumAmountDue").value == "5.00"


def test_an_invalid_mapping_row_late_in_the_document_leaves_everything_as_it_was(presets):
    document = biller_document_export(biller=presets["imt"])
    document["biller"]["name"] = "Renamed"
    document["settings"] = [s for s in document["settings"] if s["setting_id"] != 64]
    document["field_mappings"][0]["partner_field"] = "changed"
    document["field_mappings"][-1]["rule"] = "constnt"
    problems = _refused(document)
    last = len(document["field_mappings"]) - 1
    assert problems == [f"field_mappings[{last}].rule: unknown rule 'constnt'."]


def test_an_import_that_drops_a_required_mapping_row_is_refused_naming_it(presets):
    document = _as_new_biller(biller_document_export(biller=presets["peoria"]))
    document["field_mappings"] = [
        row for row in document["field_mappings"] if row["file_spec_id"] != 13
    ]
    problems = _refused(document)
    assert len(problems) == 1
    assert problems[0].startswith("field_mappings: ")
    assert "13" in problems[0] and "TotalAmountDue" in problems[0]
    assert not Biller.objects.filter(bid=3001).exists()


def test_a_new_biller_with_an_invalid_row_is_not_created(presets):
    document = _as_new_biller(biller_document_export(biller=presets["peoria"]))
    document["field_mappings"][12]["rule"] = "setting"
    document["field_mappings"][12]["rule_value"] = "not-a-setting"
    problems = _refused(document)
    assert problems and all(p.startswith("field_mappings[12].") for p in problems)
    assert not Biller.objects.filter(bid=3001).exists()


@pytest.mark.parametrize(
    "change,expected",
    [
        (
            lambda d: d["field_mappings"][3].pop("file_spec_id"),
            "field_mappings[3].file_spec_id: This field is required.",
        ),
        (
            lambda d: d["field_mappings"].append(dict(d["field_mappings"][0])),
            "field_mappings[26].file_spec_id: duplicate file_spec_id 1.",
        ),
        (
            lambda d: d["field_mappings"][2].update(rulee="constant"),
            "field_mappings[2].rulee: unknown key.",
        ),
        (
            lambda d: d["settings"].append({"setting_id": 999, "value": "x"}),
            "settings[5].setting_id: setting 999 is not in the Advanced Settings catalog.",
        ),
        (
            lambda d: d["settings"][0].update(value="not a url"),
            "settings[0].value: Setting 8 must be an http(s) URL; 'not a url' is not one.",
        ),
        (
            lambda d: d["settings"][0].update(secret=True),
            "settings[0].secret: setting 8 is not a secret.",
        ),
        (
            lambda d: d["settings"][1].update(secret_env="ICI_PEORIA_RTDR_KEY"),
            "settings[1].secret_env: a document names no environment variable",
        ),
        (
            lambda d: d["options"].append({"option_id": 4242, "enabled": True}),
            "options[0].option_id: option 4242 is not in the integration options catalog.",
        ),
        (
            lambda d: d["biller"].update(time_zone="America/Peoria"),
            "biller.time_zone: 'America/Peoria' is not an IANA time zone name",
        ),
        (lambda d: d.pop("invoice_types"), "invoice_types: This field is required."),
    ],
)
def test_refusals_name_the_json_path(presets, change, expected):
    document = biller_document_export(biller=presets["peoria"])
    change(document)
    problems = _refused(document)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_biller_guid_taken_by_another_biller_is_refused(presets):
    document = _as_new_biller(
        biller_document_export(biller=presets["peoria"]), guid=str(presets["imt"].biller_guid)
    )
    problems = _refused(document)
    assert problems == ["biller.biller_guid: Biller with this BillerGuid already exists."]


@pytest.mark.parametrize("found", [None, 2, "1"])
def test_a_document_of_an_unknown_format_is_refused(presets, found):
    document = biller_document_export(biller=presets["imt"])
    document["format"] = found
    if found is None:
        del document["format"]
    _refused(document, code="unsupported_document_format")


def test_a_presets_own_keys_are_accepted_and_not_stored(presets):
    document = biller_document_export(biller=presets["imt"])
    document.update(
        preset="imt", source="the IMT document", notes=["a note"], required_mapping=[10, 13]
    )
    assert biller_document_diff(document=document).is_empty


def test_an_invoice_type_that_invoices_use_cannot_be_removed(presets):
    imt = presets["imt"]
    InvoiceFactory(biller=imt, invoice_type=InvoiceType.objects.get(biller=imt, type_id=164))
    document = biller_document_export(biller=imt)
    document["invoice_types"] = []
    assert _refused(document) == [
        "invoice_types: invoice type 164 is used by invoices and cannot be removed; keep it in "
        "the document."
    ]


# --- secrets ------------------------------------------------------------------------------


def test_an_import_never_changes_a_secret_it_does_not_name(presets):
    peoria = presets["peoria"]
    biller_setting_set(biller=peoria, setting_id=13, value="kept-api-key")
    biller_setting_set(biller=peoria, setting_id=10, value="kept-rtdr-key")
    document = biller_document_export(biller=peoria)
    document["settings"] = [s for s in document["settings"] if s["setting_id"] != 10]
    document["biller"]["name"] = "Peoria"

    biller_document_apply(document=document)

    secrets = dict(
        BillerSetting.objects.filter(biller=peoria, setting_id__in=[10, 13]).values_list(
            "setting_id", "secret"
        )
    )
    assert secrets == {10: "kept-rtdr-key", 13: "kept-api-key"}


def test_a_secret_given_a_value_is_set_encrypted_and_never_shown(presets):
    peoria = presets["peoria"]
    document = biller_document_export(biller=peoria)
    document["settings"].append({"setting_id": 13, "value": "new-api-key-123"})
    diff = biller_document_diff(document=document)
    assert "new-api-key-123" not in "\n".join(diff.lines())
    assert "  + setting 13: secret=(a new value)" in diff.lines()

    biller_document_apply(document=document)

    setting = BillerSetting.objects.get(biller=peoria, setting_id=13)
    assert (setting.secret, setting.value) == ("new-api-key-123", "")
    assert setting.secret_changed_at is not None


def test_a_new_billers_secrets_without_values_stay_empty(presets):
    peoria = presets["peoria"]
    biller_setting_set(biller=peoria, setting_id=13, value="peorias-own-key")
    document = _as_new_biller(biller_document_export(biller=peoria))

    diff = biller_document_apply(document=document)

    new = Biller.objects.get(bid=3001)
    assert not BillerSetting.objects.filter(biller=new, setting__kind="secret").exists()
    assert any(
        "setting 13: the secret was set where the document comes from" in n for n in diff.notes
    )


# --- commands -------------------------------------------------------------------------------


def test_export_then_dry_run_then_apply_with_the_commands(presets, tmp_path, capsys):
    path = tmp_path / "surprise.json"
    call_command("export_biller", "2249", "--output", str(path))
    document = _as_new_biller(json.loads(path.read_text()))
    path.write_text(json.dumps(document))

    call_command("import_biller", str(path))
    out = capsys.readouterr().out
    assert "Biller 3001 (a new biller)" in out
    assert "Dry run: nothing changed" in out
    assert not Biller.objects.filter(bid=3001).exists()

    call_command("import_biller", str(path), "--apply")
    assert "Applied:" in capsys.readouterr().out
    call_command("export_biller", "3001")
    assert json.loads(capsys.readouterr().out) == document


def test_an_invalid_document_makes_the_command_fail_with_the_paths(presets, tmp_path):
    document = biller_document_export(biller=presets["imt"])
    document["field_mappings"][12]["rule"] = "constnt"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError) as error:
        call_command("import_biller", str(path), "--apply")
    assert "field_mappings[12].rule: unknown rule 'constnt'." in str(error.value)
    assert FieldMapping.objects.get(biller=presets["imt"], file_spec_id=13).rule != "constnt"


def test_the_commands_exit_codes(presets, tmp_path, monkeypatch):
    from django.core.management import base, execute_from_command_line

    # manage.py closes the connections when a command ends: keep the test's open.
    monkeypatch.setattr(base.connections, "close_all", lambda: None)

    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(biller_document_export(biller=presets["imt"])))
    bad.write_text("{not json")
    execute_from_command_line(["manage.py", "import_biller", str(good)])  # exit 0: returns
    for argv in (
        ["import_biller", str(bad)],
        ["import_biller", str(bad), "--apply"],
        ["import_biller", str(tmp_path / "missing.json")],
        ["export_biller", "9999"],
    ):
        with pytest.raises(SystemExit) as exit:
            execute_from_command_line(["manage.py", *argv])
        assert exit.value.code == 1, argv


# --- admin ------------------------------------------------------------------------------


def test_the_admin_exports_a_billers_configuration(admin_client, presets):
    imt = presets["imt"]
    page = admin_client.get(reverse("admin:billers_biller_change", args=[imt.pk]))
    url = reverse("admin:billers_biller_export", args=[imt.pk])
    assert url in page.content.decode()
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="biller-1367.json"'
    assert json.loads(response.content) == biller_document_export(biller=imt)


def test_the_admin_import_shows_the_differences_then_applies(admin_client, admin_user, presets):
    imt = presets["imt"]
    url = reverse("admin:billers_biller_import")
    assert url in admin_client.get(reverse("admin:billers_biller_changelist")).content.decode()
    document = biller_document_export(biller=imt)
    document["field_mappings"][-2]["partner_field"] = "registration_value"
    upload = _upload(document)

    page = admin_client.post(url, {"document": upload})

    html = page.content.decode()
    assert page.status_code == 200
    assert "FileSpecID 69 RegistrationValue (CR)" in html and "registration_value" in html
    assert FieldMapping.objects.get(biller=imt, file_spec_id=69).partner_field != (
        "registration_value"
    )
    sealed = page.context["sealed"]
    response = admin_client.post(url, {"sealed": sealed, "_apply": "Apply"})
    assert response.status_code == 302
    row = FieldMapping.objects.get(biller=imt, file_spec_id=69)
    assert row.partner_field == "registration_value"
    assert row.history.latest().history_user == admin_user


def test_the_admin_import_names_the_problems_and_changes_nothing(admin_client, presets):
    document = biller_document_export(biller=presets["imt"])
    document["field_mappings"][4]["rule"] = "constnt"
    before = _snapshot()
    page = admin_client.post(
        reverse("admin:billers_biller_import"), {"document": _upload(document)}
    )
    assert page.status_code == 200
    assert "field_mappings[4].rule: unknown rule &#x27;constnt&#x27;." in page.content.decode()
    assert "sealed" not in page.context or not page.context["sealed"]
    assert _snapshot() == before


def test_the_admin_import_page_never_puts_a_secret_into_the_page(admin_client, presets):
    document = biller_document_export(biller=presets["imt"])
    document["settings"].append({"setting_id": 19, "value": "a-secret-password-77"})
    page = admin_client.post(
        reverse("admin:billers_biller_import"), {"document": _upload(document)}
    )
    assert "a-secret-password-77" not in page.content.decode()
    admin_client.post(
        reverse("admin:billers_biller_import"), {"sealed": page.context["sealed"], "_apply": "1"}
    )
    assert BillerSetting.objects.get(biller=presets["imt"], setting_id=19).secret == (
        "a-secret-password-77"
    )


def _upload(document):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "biller.json", json.dumps(document).encode(), content_type="application/json"
    )


def test_a_generated_guid_round_trips(presets):
    # A BillerGuid given in upper case is the same UUID: nothing to change.
    document = biller_document_export(biller=presets["imt"])
    document["biller"]["biller_guid"] = str(uuid.UUID(document["biller"]["biller_guid"])).upper()
    assert biller_document_diff(document=document).is_empty


# --- presets never overwrite edits silently ------------------------------------------------


def test_load_biller_preset_creates_a_biller_that_does_not_exist(catalogs, capsys):
    call_command("load_biller_preset", "peoria")
    assert Biller.objects.get(bid=2249).name == "City of Peoria AZ"
    assert "peoria: biller 2249 City of Peoria AZ:" in capsys.readouterr().out


def test_load_biller_preset_prints_the_differences_and_keeps_admin_edits(presets, capsys):
    peoria = presets["peoria"]
    real_guid = uuid.UUID("5d0c3c2e-8a43-4d55-9a3e-7f0a2b1c2249")
    Biller.objects.filter(pk=peoria.pk).update(biller_guid=real_guid)
    FieldMapping.objects.filter(biller=peoria, file_spec_id=39).update(partner_field="bizaddr")
    biller_setting_set(biller=peoria, setting_id=13, value="admin-entered-key")
    before = _snapshot()

    call_command("load_biller_preset", "peoria")

    out = capsys.readouterr().out
    assert "peoria: biller 2249 exists and differs from the preset; nothing changed" in out
    assert f"biller_guid {real_guid} -> 6197b915-25fb-5b1c-b58f-d5ae83bd39c1" in out
    assert "~ FileSpecID 39 Custom2 (IH): partner_field 'bizaddr' -> 'businessaddress'" in out
    assert "setting 13" not in out  # the secret's variable is unset: left as it is
    assert _snapshot() == before
    peoria.refresh_from_db()
    assert peoria.biller_guid == real_guid


def test_load_biller_preset_force_writes_the_preset_over_the_edits(presets, capsys):
    peoria = presets["peoria"]
    FieldMapping.objects.filter(biller=peoria, file_spec_id=39).update(partner_field="bizaddr")
    call_command("load_biller_preset", "peoria", "--force")
    assert "1 updated" in capsys.readouterr().out
    row = FieldMapping.objects.get(biller=peoria, file_spec_id=39)
    assert row.partner_field == "businessaddress"


def test_load_biller_preset_says_when_a_biller_already_holds_it(presets, capsys):
    call_command("load_biller_preset")
    out = capsys.readouterr().out
    assert "peoria: biller 2249 already holds the preset" in out
    assert "imt: biller 1367 already holds the preset" in out


def test_load_biller_preset_shows_a_secret_its_variable_would_change(presets, capsys, monkeypatch):
    monkeypatch.setenv("ICI_PEORIA_API_KEY", "from-the-environment")
    call_command("load_biller_preset", "peoria")
    out = capsys.readouterr().out
    assert "+ setting 13: secret=(a new value)" in out
    assert "from-the-environment" not in out
    assert not BillerSetting.objects.filter(biller=presets["peoria"], setting_id=13).exists()


def test_a_demo_restart_keeps_admin_edits_and_still_points_at_the_sandboxes(catalogs, capsys):
    # What scripts/run_demo.py runs at every start, twice, with an admin edit between.
    def start():
        call_command("load_biller_preset")
        call_command(
            "point_billers_at_sandboxes",
            "--citizenserve", "http://127.0.0.1:8101", "--imt", "http://127.0.0.1:8102",
        )  # fmt: skip

    start()
    peoria = Biller.objects.get(bid=2249)
    edited_guid = uuid.UUID("5d0c3c2e-8a43-4d55-9a3e-7f0a2b1c2249")
    Biller.objects.filter(pk=peoria.pk).update(biller_guid=edited_guid, name="Peoria (edited)")

    start()

    peoria.refresh_from_db()
    assert (peoria.biller_guid, peoria.name) == (edited_guid, "Peoria (edited)")
    settings = dict(BillerSetting.objects.filter(biller=peoria).values_list("setting_id", "value"))
    assert settings[8].startswith("http://127.0.0.1:8101/Portal/PortalController?")
    assert "installationID=24" in settings[8]
    assert settings[11] == "http://127.0.0.1:8101/citizenws/service/addlicensepayment"
    assert BillerSetting.objects.get(biller=peoria, setting_id=13).secret
    imt = Biller.objects.get(bid=1367)
    assert BillerSetting.objects.get(biller=imt, setting_id=8).value == "http://127.0.0.1:8102"
    assert "nothing changed" in capsys.readouterr().out


def test_a_preset_creates_its_biller_inactive_in_test_and_says_so(catalogs, capsys):
    call_command("load_biller_preset", "peoria")

    peoria = Biller.objects.get(bid=2249)
    assert (peoria.is_active, peoria.environment) == (False, "test")
    assert "is_active True in the preset ignored" in capsys.readouterr().out


def test_a_forced_preset_keeps_whether_a_biller_is_active(presets):
    peoria = presets["peoria"]
    Biller.objects.filter(pk=peoria.pk).update(is_active=False)

    call_command("load_biller_preset", "peoria", "--force")

    peoria.refresh_from_db()
    assert (peoria.is_active, peoria.environment) == (False, "test")


def test_load_biller_preset_activate_is_for_the_demo_and_the_tests_only(catalogs, settings):
    call_command("load_biller_preset", "imt", "--activate")
    assert Biller.objects.get(bid=1367).is_active

    settings.ICI_MODE = "production"
    with pytest.raises(CommandError, match="for the demo only"):
        call_command("load_biller_preset", "peoria", "--activate")
    assert not Biller.objects.filter(bid=2249).exists()
