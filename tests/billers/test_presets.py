import json
import shutil
from decimal import Decimal

import pytest

from billers.models import (
    Biller,
    BillerOption,
    BillerSetting,
    FieldMapping,
    MappingRule,
)
from billers.services.presets import PRESET_DIR, biller_preset_load, preset_names
from icintegrations.errors import ApplicationError

# The field mapping tables of the two documents, row for row:
# (FileSpecID, IC field, record type, in file, required, partner field as the document names it)
PEORIA_TABLE = [
    (1, "RowType", "FH", False, True, ""),
    (2, "BillerGuid", "FH", False, True, ""),
    (4, "FileCreationDate", "FH", False, True, ""),
    (5, "InvoiceCount", "FH", False, True, ""),
    (6, "TotalInvoiceAmount", "FH", False, True, ""),
    (7, "RowType", "IH", False, True, ""),
    (8, "RecordType", "IH", False, True, ""),
    (9, "InvoiceFormatGuid", "IH", False, True, ""),
    (10, "InvoiceNumber", "IH", True, True, "License Number"),
    (11, "InvoiceDate", "IH", True, True, ""),
    (12, "InvoiceDueDate", "IH", True, True, ""),
    (13, "TotalAmountDue", "IH", True, True, "Total Amount Due"),
    (38, "Custom1", "IH", True, False, "Installation ID"),
    (39, "Custom2", "IH", True, False, "Business Address"),
    (40, "Custom3", "IH", True, False, ""),
    (41, "Custom4", "IH", True, False, ""),
    (93, "BalanceDue", "IH", True, False, "Balance Due"),
    (252, "InvoiceTypeID", "IH", False, True, ""),
    (58, "RowType", "CR", False, True, ""),
    (59, "AccountNumber", "CR", True, True, "License Number"),
    (60, "CustomerName", "CR", True, True, "Owner"),
    (61, "Address1", "CR", True, False, "Customer Address"),
    (63, "City", "CR", True, False, ""),
    (64, "State", "CR", True, False, ""),
    (65, "Zip", "CR", True, False, ""),
    (70, "RowType", "ID", False, True, ""),
]

IMT_TABLE = [
    (1, "RowType", "FH", False, True, ""),
    (2, "BillerGuid", "FH", False, True, ""),
    (4, "FileCreationDate", "FH", False, True, ""),
    (5, "InvoiceCount", "FH", False, True, ""),
    (6, "TotalInvoiceAmount", "FH", False, True, ""),
    (7, "RowType", "IH", False, True, ""),
    (8, "RecordType", "IH", False, True, ""),
    (9, "InvoiceFormatGuid", "IH", False, True, ""),
    (10, "InvoiceNumber", "IH", True, True, "invoice_number"),
    (11, "InvoiceDate", "IH", True, True, "invoice_date"),
    (12, "InvoiceDueDate", "IH", True, True, "due_date"),
    (13, "TotalAmountDue", "IH", True, True, "amount_due"),
    *[(37 + n, f"Custom{n}", "IH", False, False, "") for n in range(1, 11)],
    (93, "BalanceDue", "IH", False, False, ""),
    (194, "BalanceForward", "IH", False, False, ""),
    (252, "InvoiceTypeID", "IH", False, True, ""),
    (346, "BillerBillYear", "IH", False, False, ""),
    (347, "BillerInvoiceNumber", "IH", True, False, "invoice_number"),
    (407, "PastDue", "IH", True, False, "past_due_amount"),
    (58, "RowType", "CR", False, True, ""),
    (59, "AccountNumber", "CR", True, True, "customer_id"),
    (60, "CustomerName", "CR", True, True, "customer_name"),
    (61, "Address1", "CR", True, False, "address"),
    (62, "Address2", "CR", True, False, "address2"),
    (63, "City", "CR", True, False, "city"),
    (64, "State", "CR", True, False, "state"),
    (65, "Zip", "CR", True, False, "ZIP"),
    (66, "Phone", "CR", True, False, "phone"),
    (67, "EmailAddress", "CR", True, False, "email"),
    (69, "RegistrationValue", "CR", True, False, "registration value"),
    (70, "RowType", "ID", False, True, ""),
]


def _table(biller):
    return [
        (m.file_spec_id, m.ic_field, m.record_type, m.in_file, m.required, m.partner_field_label)
        for m in FieldMapping.objects.filter(biller=biller)
    ]


def _snapshot():
    """Every configuration row with its last change, and the audit trail's length."""
    rows = []
    for model in (Biller, BillerSetting, BillerOption, FieldMapping):
        rows.append(sorted(model.objects.values_list("pk", flat=True)))
        rows.append(model.history.count())
    rows.append(sorted(Biller.objects.values_list("updated_at", flat=True)))
    rows.append(sorted(BillerSetting.objects.values_list("updated_at", flat=True)))
    return rows


def test_both_presets_exist():
    assert preset_names() == ["imt", "peoria"]


def test_peoria_mapping_matches_the_document_row_for_row(presets):
    # When the Peoria preset is loaded, its mapping is the document's table,
    # ordered by record type and FileSpecID as the document shows it.
    assert _table(presets["peoria"]) == PEORIA_TABLE


def test_imt_mapping_matches_the_document_row_for_row(presets):
    assert _table(presets["imt"]) == IMT_TABLE


def test_peoria_invoice_number_comes_from_the_license_number(presets):
    row = FieldMapping.objects.get(biller=presets["peoria"], file_spec_id=10)
    assert (row.ic_field, row.record_type, row.rule) == ("InvoiceNumber", "IH", "partner_field")
    assert (row.partner_field_label, row.partner_field) == ("License Number", "licensenumber")
    assert row.in_file and row.required


def test_imt_rows_the_document_names(presets):
    imt = presets["imt"]
    rows = {m.file_spec_id: m for m in FieldMapping.objects.filter(biller=imt)}
    assert (rows[347].ic_field, rows[347].partner_field) == (
        "BillerInvoiceNumber",
        "invoice_number",
    )
    assert (rows[407].ic_field, rows[407].partner_field) == ("PastDue", "past_due_amount")
    assert (rows[346].rule, rows[346].rule_value) == (MappingRule.YEAR_OF, "InvoiceDate")
    assert (rows[252].rule, rows[252].rule_value) == (MappingRule.CONSTANT, "164")
    assert (rows[194].rule, rows[194].rule_value) == (MappingRule.CONSTANT, "Yes")
    assert (rows[8].rule, rows[8].rule_value) == (MappingRule.CONSTANT, "N")


def test_presets_carry_the_documents_settings_options_and_types(presets):
    peoria, imt = presets["peoria"], presets["imt"]
    assert (peoria.bid, peoria.partner, imt.bid, imt.partner) == (2249, "CitizenServe", 1367, "IMT")
    peoria_settings = dict(
        BillerSetting.objects.filter(biller=peoria).values_list("setting_id", "value")
    )
    assert peoria_settings[8].startswith("https://test.citizenserve.com/Portal/PortalController?")
    assert "report_ID=641" in peoria_settings[8] and peoria_settings[8].endswith("&Param_1=")
    assert (
        peoria_settings[11] == "https://test.citizenserve.com/citizenws/service/addlicensepayment"
    )
    assert json.loads(peoria_settings[131]) == {"InvoiceOnDemand": {"Integration": "CitizenServe"}}
    assert peoria_settings[64] == "Web CC|IVR CC|AutopayCC"
    assert peoria_settings[65] == "Web Eck|IVR Eck|AutopayEck"
    imt_settings = dict(BillerSetting.objects.filter(biller=imt).values_list("setting_id", "value"))
    assert imt_settings[8] == "https://billingtest.imtapps.com"
    assert BillerOption.objects.get(biller=imt, option_id=64).enabled is True
    assert list(imt.invoice_types.values_list("type_id", "name")) == [(164, "Insurance1")]
    assert imt.bif_customizations.get(name="AllowPartialPayments").value == "No"


def test_secrets_are_not_in_the_presets_and_stay_unset_without_their_variables(presets):
    for path in PRESET_DIR.glob("*.json"):
        for item in json.loads(path.read_text())["settings"]:
            if item["setting_id"] in (10, 13, 16, 19, 113):
                assert "value" not in item, path.name
    assert not BillerSetting.objects.filter(setting__kind="secret").exists()


def test_secrets_come_from_the_environment(db):
    result = biller_preset_load(name="imt", environ={"ICI_IMT_INTEGRATOR_ID": "integrator-1"})
    setting = BillerSetting.objects.get(biller=result.biller, setting_id=13)
    assert setting.secret == "integrator-1"
    assert setting.value == ""
    assert result.secrets_missing == []


def test_loading_twice_changes_nothing(presets):
    before = _snapshot()
    for name in ("peoria", "imt"):
        result = biller_preset_load(name=name, environ={})
        assert (result.created, result.updated) == (0, 0)
    assert _snapshot() == before


def test_loading_twice_with_the_same_secret_changes_nothing(db):
    environ = {"ICI_PEORIA_API_KEY": "k-1", "ICI_PEORIA_RTDR_KEY": "r-1"}
    biller_preset_load(name="peoria", environ=environ)
    before = _snapshot()
    result = biller_preset_load(name="peoria", environ=environ)
    assert (result.created, result.updated) == (0, 0)
    assert _snapshot() == before


def test_loading_puts_back_what_someone_changed(presets):
    FieldMapping.objects.filter(biller=presets["imt"], file_spec_id=407).update(
        partner_field="pastdue"
    )
    result = biller_preset_load(name="imt", environ={})
    assert result.updated == 1
    row = FieldMapping.objects.get(biller=presets["imt"], file_spec_id=407)
    assert row.partner_field == "past_due_amount"


@pytest.fixture
def preset_copy(tmp_path):
    """A writable copy of the IMT preset: edit it, then load it from `path`."""
    path = tmp_path / "imt.json"
    shutil.copy(PRESET_DIR / "imt.json", path)
    data = json.loads(path.read_text())

    def write(change):
        change(data)
        path.write_text(json.dumps(data))
        return path

    return write


def _load_fails(path, code="invalid_preset"):
    with pytest.raises(ApplicationError) as error:
        biller_preset_load(name="imt", path=path, environ={})
    assert error.value.code == code
    assert Biller.objects.count() == 0
    assert FieldMapping.objects.count() == 0
    assert BillerSetting.objects.count() == 0
    return error.value.message


@pytest.mark.django_db
def test_a_mapping_row_with_a_missing_field_is_refused_whole(preset_copy):
    path = preset_copy(lambda data: data["field_mappings"][3].pop("rule"))
    message = _load_fails(path)
    assert "field_mappings[3].rule: This field is required." in message


@pytest.mark.django_db
def test_a_preset_without_its_biller_is_refused(preset_copy):
    path = preset_copy(lambda data: data.pop("biller"))
    assert "biller: This field is required." in _load_fails(path)


@pytest.mark.django_db
def test_a_duplicate_file_spec_id_is_refused(preset_copy):
    path = preset_copy(lambda data: data["field_mappings"].append(data["field_mappings"][0]))
    assert "duplicate FileSpecID 1" in _load_fails(path)


@pytest.mark.django_db
def test_a_bad_setting_value_rolls_back_everything_before_it(preset_copy):
    # The biller row is written before the settings; a bad setting undoes it too.
    path = preset_copy(lambda data: data["settings"].append({"setting_id": 131, "value": "{x"}))
    assert "Setting 131 must be valid JSON" in _load_fails(path)


@pytest.mark.django_db
def test_an_unknown_setting_id_is_refused(preset_copy):
    path = preset_copy(lambda data: data["settings"].append({"setting_id": 999, "value": "x"}))
    assert "Setting 999 is not in the Advanced Settings catalog" in _load_fails(
        path, code="unknown_setting"
    )


@pytest.mark.django_db
def test_a_secret_written_into_a_preset_is_refused(preset_copy):
    path = preset_copy(lambda data: data["settings"].append({"setting_id": 19, "value": "pw"}))
    assert "never the value" in _load_fails(path)


@pytest.mark.django_db
def test_a_preset_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "imt.json"
    path.write_text("{not json")
    assert "not valid JSON" in _load_fails(path)


@pytest.mark.django_db
def test_an_unknown_preset_name_is_refused():
    with pytest.raises(ApplicationError) as error:
        biller_preset_load(name="springfield")
    assert error.value.code == "unknown_preset"


def test_the_presets_set_each_billers_time_zone(presets):
    # Peoria is in Arizona (UTC-7 all year); IMT's document stamps -05:00 in October.
    assert presets["peoria"].time_zone == "America/Phoenix"
    assert presets["imt"].time_zone == "America/Chicago"


@pytest.mark.django_db
def test_a_preset_without_a_time_zone_is_refused(preset_copy):
    path = preset_copy(lambda data: data["biller"].pop("time_zone"))
    assert "biller.time_zone: This field is required." in _load_fails(path)


@pytest.mark.django_db
def test_a_preset_with_a_made_up_time_zone_is_refused(preset_copy):
    path = preset_copy(lambda data: data["biller"].update(time_zone="America/Peoria"))
    assert "'America/Peoria' is not an IANA time zone name" in _load_fails(path)


# --- the payment policy (issue 12) --------------------------------------------------------


def test_presets_carry_the_payment_policy(presets):
    for biller in presets.values():
        assert (biller.overpayment_allowance, biller.maximum_payment) == (
            Decimal("0.00"),
            Decimal("100000.00"),
        )


@pytest.mark.django_db
def test_a_preset_without_the_payment_policy_gets_the_defaults(preset_copy, catalogs):
    def drop(data):
        data["biller"].pop("overpayment_allowance")
        data["biller"].pop("maximum_payment")

    biller = biller_preset_load(name="imt", path=preset_copy(drop), environ={}).biller
    assert biller is not None
    biller.refresh_from_db()
    assert (biller.overpayment_allowance, biller.maximum_payment) == (
        Decimal("0.00"),
        Decimal("100000.00"),
    )


@pytest.mark.django_db
def test_a_preset_may_set_no_overpayment_limit_and_its_own_ceiling(preset_copy, catalogs):
    def change(data):
        data["biller"].update(overpayment_allowance=None, maximum_payment="2500.00")

    biller = biller_preset_load(name="imt", path=preset_copy(change), environ={}).biller
    assert biller is not None
    biller.refresh_from_db()
    assert (biller.overpayment_allowance, biller.maximum_payment) == (None, Decimal("2500.00"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value", [("overpayment_allowance", "-1.00"), ("maximum_payment", "0.00")]
)
def test_a_negative_allowance_or_a_zero_ceiling_is_refused(preset_copy, field, value):
    path = preset_copy(lambda data: data["biller"].update({field: value}))
    assert f"biller.{field}" in _load_fails(path)
