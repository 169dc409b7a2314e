"""Validation of setting values, customizations and mapping rules.

Shared by the admin (through the models' `clean()`), the command line and the
preset loader, so a value is judged the same way wherever it comes from.
"""

import datetime
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import NamedTuple, Protocol
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from billers.catalog import SettingId
from billers.choices import BIF_CUSTOMIZATIONS, CustomizationKind, MappingRule, Partner, SettingKind

_url_validator = URLValidator(schemes=["http", "https"])


class Setting(Protocol):
    """What a value's validation reads of its setting (a SettingDefinition; the
    models call these validators, so this module does not import them)."""

    @property
    def id(self) -> int: ...

    @property
    def kind(self) -> str: ...


def validate_setting_value(setting: Setting, value: str) -> None:
    """Raise ValidationError (code says why) if `value` is no good for `setting`."""
    if value is None:
        raise ValidationError("A value is required.", code="required")
    if setting.kind == SettingKind.URL:
        if not value:
            raise ValidationError("A URL is required.", code="required")
        try:
            _url_validator(value)
        except ValidationError as e:
            raise ValidationError(
                f"Setting {setting.id} must be an http(s) URL; {value[:80]!r} is not one.",
                code="invalid_url",
            ) from e
    elif setting.kind == SettingKind.LIST:
        items = value.split("|")
        if not value or any(not item.strip() for item in items):
            raise ValidationError(
                f"Setting {setting.id} must be a pipe-separated list of non-empty codes, "
                "e.g. 'Web CC|IVR CC|AutopayCC'.",
                code="invalid_list",
            )
        if any(len(item.strip()) > 32 or not item.strip().isprintable() for item in items):
            raise ValidationError(
                f"Setting {setting.id}: each code is at most 32 printable characters (a "
                "payment's source is stored in 32).",
                code="invalid_list",
            )
    elif setting.kind == SettingKind.JSON:
        try:
            data = json.loads(value)
        except json.JSONDecodeError as e:
            raise ValidationError(
                f"Setting {setting.id} must be valid JSON: {e.msg} at line {e.lineno} "
                f"column {e.colno}.",
                code="invalid_json",
            ) from e
        if setting.id == SettingId.JSON_CONFIGURATION:
            validate_json_configuration(data)


def validate_json_configuration(data) -> None:
    """Setting 131 must look like {"InvoiceOnDemand": {"Integration": "<name>"}}."""
    shape = 'expected {"InvoiceOnDemand": {"Integration": "<name>"}}'
    setting = f"Setting {SettingId.JSON_CONFIGURATION}"
    if not isinstance(data, dict):
        raise ValidationError(
            f"{setting} must be a JSON object; {shape}.", code="invalid_json_shape"
        )
    if "InvoiceOnDemand" not in data:
        raise ValidationError(
            f'{setting} has no "InvoiceOnDemand" key; {shape}.', code="invalid_json_shape"
        )
    on_demand = data["InvoiceOnDemand"]
    if not isinstance(on_demand, dict) or "Integration" not in on_demand:
        raise ValidationError(
            f'{setting}: "InvoiceOnDemand" must be an object with an "Integration" key; {shape}.',
            code="invalid_json_shape",
        )
    integration = on_demand["Integration"]
    if not isinstance(integration, str) or integration not in Partner.values:
        known = ", ".join(Partner.values)
        raise ValidationError(
            f'{setting}: "Integration" must be one of {known}, not {integration!r}.',
            code="unknown_integration",
        )


def validate_customization_value(name: str, value: str) -> None:
    kind = BIF_CUSTOMIZATIONS.get(name)
    if kind is None:
        raise ValidationError(f"Unknown BIF customization {name!r}.", code="unknown_customization")
    if value == "":
        return
    if kind == CustomizationKind.BOOL and value not in ("Yes", "No"):
        raise ValidationError(f"{name} must be Yes or No.", code="invalid_customization")
    if kind == CustomizationKind.MONEY:
        try:
            amount = Decimal(value)
        except InvalidOperation as e:
            raise ValidationError(
                f"{name} must be an amount such as 10.00.", code="invalid_customization"
            ) from e
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(
                f"{name} must be an amount of zero or more with at most two decimals.",
                code="invalid_customization",
            )
    if kind == CustomizationKind.DATE:
        try:
            datetime.date.fromisoformat(value)
        except ValueError as e:
            raise ValidationError(
                f"{name} must be a date as YYYY-MM-DD.", code="invalid_customization"
            ) from e


def validate_mapping_rule(*, rule: str, rule_value: str, partner_field: str) -> None:
    if rule == MappingRule.PARTNER_FIELD and not partner_field:
        raise ValidationError(
            {"partner_field": "A partner field rule needs the partner field's name."},
            code="invalid_rule",
        )
    if rule in (MappingRule.CONSTANT, MappingRule.YEAR_OF, MappingRule.SETTING) and not rule_value:
        raise ValidationError(
            {"rule_value": f"The rule {rule!r} needs a rule value."}, code="invalid_rule"
        )
    if rule == MappingRule.SETTING:
        setting_id, _, param = rule_value.partition(":")
        if not setting_id.isdigit():
            raise ValidationError(
                {"rule_value": "A setting rule takes a setting ID: 8 or 8:installationID."},
                code="invalid_rule",
            )
    if rule in (MappingRule.TODAY, MappingRule.GENERATED, MappingRule.NONE) and rule_value:
        raise ValidationError(
            {"rule_value": f"The rule {rule!r} takes no rule value."}, code="invalid_rule"
        )


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA time zone name the system knows, such as America/Phoenix."""
    if value not in _time_zones():
        raise ValidationError(
            f"{value[:64]!r} is not an IANA time zone name (for example America/Phoenix, "
            "America/Chicago or UTC).",
            code="invalid_time_zone",
        )


class RequiredField(NamedTuple):
    """An IC field a biller's mapping must give a value for (billers.catalog.REQUIRED_MAPPING,
    a template's `required_mapping`)."""

    file_spec_id: int
    ic_field: str

    def __str__(self):
        return f"FileSpecID {self.file_spec_id} {self.ic_field}"


# The rules that give no value: a required field mapped so is not mapped.
_NO_VALUE_RULES = (MappingRule.NONE, MappingRule.GENERATED)


def _row_value(row, name: str):
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def required_mapping_problems(rows: Iterable, required: Iterable[RequiredField]) -> list[str]:
    """What `rows` (mapping rows: models or dicts) lack of `required`, one message per
    required field, each naming its FileSpecID and IC field; empty when complete."""
    by_id = {_row_value(row, "file_spec_id"): row for row in rows}
    problems = []
    for field in dict.fromkeys(required):  # in order, once each
        row = by_id.get(field.file_spec_id)
        if row is None:
            problems.append(f"{field} is required: the mapping has no row for it.")
            continue
        ic_field, rule = _row_value(row, "ic_field"), _row_value(row, "rule")
        if ic_field != field.ic_field:
            problems.append(f"{field} is required: its row maps {ic_field!r} instead.")
        elif rule in _NO_VALUE_RULES or not rule:
            shown = MappingRule(rule).label if rule in MappingRule.values else "no rule"
            problems.append(f"{field} is required: its rule ({shown}) gives it no value.")
        elif not _row_value(row, "required"):
            problems.append(f"{field} is required: its row must be marked Required (TRUE).")
    return problems


def validate_required_mapping(rows: Iterable, required: Iterable[RequiredField]) -> None:
    """Raise ValidationError (code `required_mapping`) naming every required field
    that `rows` lack."""
    problems = required_mapping_problems(rows, required)
    if problems:
        raise ValidationError(
            [ValidationError(message, code="required_mapping") for message in problems]
        )
