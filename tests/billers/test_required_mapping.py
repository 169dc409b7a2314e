"""Required mapping, enforced: the biller's page, the mapping row's page and a
preset refuse a mapping that lacks a required field, naming its FileSpecID and
IC field."""

import json

import pytest
from django.urls import reverse

from billers.catalog import REQUIRED_MAPPING
from billers.models import Biller, FieldMapping
from billers.services.mapping_requirements import (
    biller_mapping_problems,
    mapping_requirements_validate,
)
from billers.services.presets import PRESET_DIR, biller_preset_load
from icintegrations.errors import ApplicationError
from tests.billers.test_admin import _form_data, _inline_prefix

pytestmark = pytest.mark.django_db


def _change_url(biller):
    return reverse("admin:billers_biller_change", args=[biller.pk])


def _mapping_form_key(data, prefix, file_spec_id, name):
    """The POST key of column `name` of the inline row of `file_spec_id`."""
    row = next(
        key.removesuffix("-file_spec_id")
        for key, value in data.items()
        if key.startswith(prefix)
        and key.endswith("-file_spec_id")
        and str(value) == str(file_spec_id)
    )
    return f"{row}-{name}"


# -- the biller's page ----------------------------------------------------------------


def test_the_biller_page_refuses_to_delete_a_required_row(admin_client, presets):
    peoria = presets["peoria"]
    url = _change_url(peoria)
    page = admin_client.get(url)
    data = _form_data(page)
    prefix, _ = _inline_prefix(page, FieldMapping)
    data[_mapping_form_key(data, prefix, 13, "DELETE")] = "on"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "FileSpecID 13 TotalAmountDue is required: the mapping has no row for it." in html
    assert FieldMapping.objects.filter(biller=peoria, file_spec_id=13).exists()


def test_the_biller_page_refuses_a_required_row_set_to_not_mapped(admin_client, presets):
    imt = presets["imt"]
    url = _change_url(imt)
    page = admin_client.get(url)
    data = _form_data(page)
    prefix, _ = _inline_prefix(page, FieldMapping)
    data[_mapping_form_key(data, prefix, 11, "rule")] = "none"
    data[_mapping_form_key(data, prefix, 11, "partner_field")] = ""
    data["name"] = "IMT renamed"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "FileSpecID 11 InvoiceDate is required: its rule (Not mapped) gives it no value." in (
        response.content.decode()
    )
    imt.refresh_from_db()
    assert imt.name == "IMT Software Services"  # nothing saved
    assert FieldMapping.objects.get(biller=imt, file_spec_id=11).rule == "partner_field"


def test_a_new_biller_without_a_mapping_is_refused(admin_client, catalogs):
    page = admin_client.get(reverse("admin:billers_biller_add"))
    data = _form_data(page)
    data.update(
        bid="3001", name="City of Third", biller_guid="3b7a0c1e-6e57-4a43-9b3c-1f2e3d4c5b6a",
        partner="CitizenServe", environment="test", time_zone="America/Phoenix",
        overpayment_allowance="0.00", maximum_payment="100000.00",
    )  # fmt: skip

    response = admin_client.post(reverse("admin:billers_biller_add"), data)

    assert response.status_code == 200
    html = response.content.decode()
    for file_spec_id, ic_field in REQUIRED_MAPPING["CitizenServe"]:
        assert f"FileSpecID {file_spec_id} {ic_field} is required" in html
    assert not Biller.objects.filter(bid=3001).exists()


def test_the_biller_page_saves_a_complete_mapping(admin_client, presets):
    peoria = presets["peoria"]
    url = _change_url(peoria)
    page = admin_client.get(url)
    data = _form_data(page)
    prefix, _ = _inline_prefix(page, FieldMapping)
    data[_mapping_form_key(data, prefix, 40, "DELETE")] = "on"  # Custom3: not required

    assert admin_client.post(url, data).status_code == 302
    assert not FieldMapping.objects.filter(biller=peoria, file_spec_id=40).exists()


# -- the mapping row's page -----------------------------------------------------------


def _row_url(row, action="change"):
    return reverse(f"admin:billers_fieldmapping_{action}", args=[row.pk])


def test_the_row_page_refuses_to_unmap_a_required_field(admin_client, presets):
    row = FieldMapping.objects.get(biller=presets["peoria"], file_spec_id=60)
    data = _form_data(admin_client.get(_row_url(row)))
    data["ic_field"] = "Custom5"

    response = admin_client.post(_row_url(row), data)

    assert response.status_code == 200
    assert "FileSpecID 60 CustomerName is required: its row maps &#x27;Custom5&#x27; instead." in (
        response.content.decode()
    )
    row.refresh_from_db()
    assert row.ic_field == "CustomerName"


def test_the_row_page_refuses_to_delete_a_required_row(admin_client, presets):
    row = FieldMapping.objects.get(biller=presets["peoria"], file_spec_id=59)

    response = admin_client.post(_row_url(row, "delete"), {"post": "yes"}, follow=True)

    assert "Not deleted: FileSpecID 59 AccountNumber is required" in response.content.decode()
    assert FieldMapping.objects.filter(pk=row.pk).exists()


def test_the_row_page_deletes_a_row_that_is_not_required(admin_client, presets):
    row = FieldMapping.objects.get(biller=presets["peoria"], file_spec_id=41)
    response = admin_client.post(_row_url(row, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert not FieldMapping.objects.filter(pk=row.pk).exists()


def test_the_row_page_mends_an_incomplete_mapping_a_row_at_a_time(admin_client, presets):
    peoria = presets["peoria"]
    FieldMapping.objects.filter(biller=peoria, file_spec_id__in=[59, 60]).delete()
    row = FieldMapping.objects.get(biller=peoria, file_spec_id=61)
    data = _form_data(admin_client.get(_row_url(row)))
    data["partner_field"] = "customeraddress1"  # a change that makes nothing worse

    assert admin_client.post(_row_url(row), data).status_code == 302


def test_the_mapping_list_has_no_bulk_delete(admin_client, presets):
    response = admin_client.get(reverse("admin:billers_fieldmapping_changelist"))
    assert "delete_selected" not in response.content.decode()
    rows = FieldMapping.objects.filter(biller=presets["imt"]).values_list("pk", flat=True)
    response = admin_client.post(
        reverse("admin:billers_fieldmapping_changelist"),
        {"action": "delete_selected", "_selected_action": list(rows), "post": "yes"},
    )
    assert FieldMapping.objects.filter(biller=presets["imt"]).count() == len(rows)


# -- presets and the service ----------------------------------------------------------


def _preset_copy(tmp_path, name, change):
    data = json.loads((PRESET_DIR / f"{name}.json").read_text())
    change(data)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def test_a_preset_without_a_required_row_is_refused_and_changes_nothing(tmp_path, catalogs):
    def drop_total(data):
        data["field_mappings"] = [m for m in data["field_mappings"] if m["file_spec_id"] != 13]

    path = _preset_copy(tmp_path, "peoria", drop_total)

    with pytest.raises(ApplicationError) as refused:
        biller_preset_load(name="peoria", path=path, environ={})

    assert refused.value.code == "invalid_preset"
    assert "field_mappings: FileSpecID 13 TotalAmountDue is required" in refused.value.message
    assert not Biller.objects.exists()


def test_a_preset_may_require_more_than_its_partner(tmp_path, catalogs):
    def require_custom2(data):
        data["required_mapping"].append({"file_spec_id": 39, "ic_field": "Custom2"})

    path = _preset_copy(tmp_path, "peoria", require_custom2)

    with pytest.raises(ApplicationError) as refused:
        biller_preset_load(name="peoria", path=path, environ={})

    assert "FileSpecID 39 Custom2 is required: its row must be marked Required (TRUE)." in (
        refused.value.message
    )


@pytest.mark.parametrize("name", ["peoria", "imt"])
def test_each_preset_requires_at_least_its_partners_fields(name):
    data = json.loads((PRESET_DIR / f"{name}.json").read_text())
    listed = {(r["file_spec_id"], r["ic_field"]) for r in data["required_mapping"]}
    assert set(REQUIRED_MAPPING[data["biller"]["partner"]]) <= listed


def test_the_service_names_what_a_biller_lacks(presets):
    peoria = presets["peoria"]
    assert biller_mapping_problems(biller=peoria) == []
    FieldMapping.objects.filter(biller=peoria, file_spec_id=13).delete()

    problems = biller_mapping_problems(biller=peoria)

    assert [str(field) for field, _ in problems] == ["FileSpecID 13 TotalAmountDue"]
    with pytest.raises(Exception, match="FileSpecID 13 TotalAmountDue"):
        mapping_requirements_validate(partner="CitizenServe", rows=peoria.field_mappings.all())
