import ast
from pathlib import Path

import pytest

import billers.catalog
from billers.catalog import OptionId, SettingId
from billers.models import IntegrationOption, SettingDefinition

pytestmark = pytest.mark.django_db


def test_every_seeded_setting_has_a_name_and_every_name_a_seeded_setting():
    # given the Advanced Settings catalog the migrations seed
    seeded = set(SettingDefinition.objects.values_list("id", flat=True))

    # then the enum names exactly those IDs
    assert seeded == {member.value for member in SettingId}


def test_every_seeded_option_has_a_name_and_every_name_a_seeded_option():
    # given the integration options catalog the migrations seed
    seeded = set(IntegrationOption.objects.values_list("id", flat=True))

    # then the enum names exactly those IDs
    assert seeded == {member.value for member in OptionId}


def test_a_member_looks_up_a_value_keyed_by_the_plain_id():
    # given a biller's setting values as the selectors return them (plain ints)
    values = {131: '{"InvoiceOnDemand": {"Integration": "IMT"}}', 64: "Web CC"}

    # then the members find them, and print as the bare ID in messages
    assert values[SettingId.JSON_CONFIGURATION].startswith("{")
    assert values.get(SettingId.PAYMENTS_CC_CODES) == "Web CC"
    assert f"setting {SettingId.RTDR_URL}" == "setting 8"


def test_the_catalog_imports_nothing_from_the_project():
    # given the catalog module's source
    tree = ast.parse(Path(billers.catalog.__file__).read_text(encoding="utf-8"))

    # then it imports only the standard library's enum (it is the bottom of the graph)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0] if node.level == 0 else ".")
    assert imported == {"enum"}
