"""Biller presets: a technical design's whole configuration as a data file.

A preset (billers/presets/<name>.json) names the biller, its settings, options,
BIF customizations, invoice types and field mapping. Loading one is idempotent:
rows that already hold the preset's values are left alone (no save, no history
entry). Secrets are never in a preset: a secret setting names the environment
variable to take it from, and is left as it is when that variable is unset.
The whole file is checked before anything is written, and written in one
transaction, so a bad preset changes nothing.
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from rest_framework import serializers

from billers.models import (
    BIF_CUSTOMIZATIONS,
    BifCustomization,
    Biller,
    BillerOption,
    BillerSetting,
    Environment,
    FieldMapping,
    IntegrationOption,
    InvoiceType,
    MappingRule,
    Partner,
    PartnerFormat,
    RecordType,
)
from billers.services.mapping_requirements import document_required_mapping_problems
from billers.services.settings import setting_definition_get, setting_value_apply
from billers.validators import validate_time_zone
from icintegrations.demo import DEMO_MODES
from icintegrations.errors import ApplicationError

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"


class _BillerIn(serializers.Serializer):
    bid = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    biller_guid = serializers.UUIDField()
    partner = serializers.ChoiceField(choices=Partner.choices)
    environment = serializers.ChoiceField(choices=Environment.choices)
    is_active = serializers.BooleanField()
    time_zone = serializers.CharField(max_length=64, validators=[validate_time_zone])
    # The payment policy; a preset without them gets the model's defaults.
    overpayment_allowance = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), allow_null=True,
        required=False, default=Biller._meta.get_field("overpayment_allowance").default,
    )  # fmt: skip
    maximum_payment = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False,
        default=Biller._meta.get_field("maximum_payment").default,
    )  # fmt: skip


class _SettingIn(serializers.Serializer):
    setting_id = serializers.IntegerField(min_value=1)
    value = serializers.CharField(required=False, trim_whitespace=False)
    secret_env = serializers.RegexField(r"^[A-Z][A-Z0-9_]*$", required=False)

    def validate(self, attrs):
        if ("value" in attrs) == ("secret_env" in attrs):
            raise serializers.ValidationError("Give exactly one of value and secret_env.")
        return attrs


class _OptionIn(serializers.Serializer):
    option_id = serializers.IntegerField(min_value=1)
    enabled = serializers.BooleanField()


class _CustomizationIn(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(BIF_CUSTOMIZATIONS))
    value = serializers.CharField(allow_blank=True, max_length=500)
    note = serializers.CharField(allow_blank=True, max_length=500, required=False, default="")


class _InvoiceTypeIn(serializers.Serializer):
    type_id = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=100)
    virtual_site = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True, max_length=200, required=False, default="")


class _MappingIn(serializers.Serializer):
    file_spec_id = serializers.IntegerField(min_value=1)
    ic_field = serializers.CharField(max_length=64)
    record_type = serializers.ChoiceField(choices=RecordType.choices)
    in_file = serializers.BooleanField()
    # DRF's metaclass takes declared fields off the class: Field.required stays.
    required = serializers.BooleanField()  # type: ignore[assignment]
    partner_field = serializers.CharField(allow_blank=True, max_length=100)
    partner_field_label = serializers.CharField(allow_blank=True, max_length=100)
    partner_format = serializers.ChoiceField(choices=PartnerFormat.choices, allow_blank=True)
    char_limit = serializers.IntegerField(min_value=1, allow_null=True)
    rule = serializers.ChoiceField(choices=MappingRule.choices)
    rule_value = serializers.CharField(allow_blank=True, max_length=200)
    note = serializers.CharField(allow_blank=True, max_length=300)


class _RequiredIn(serializers.Serializer):
    """One IC field the template's billers cannot work without (required mapping)."""

    file_spec_id = serializers.IntegerField(min_value=1)
    ic_field = serializers.CharField(max_length=64)


def _unique(items, key, what):
    seen = set()
    for position, item in enumerate(items):
        if item[key] in seen:
            raise serializers.ValidationError(f"item {position}: duplicate {what} {item[key]}.")
        seen.add(item[key])
    return items


class PresetIn(serializers.Serializer):
    preset = serializers.CharField()
    # DRF's metaclass takes declared fields off the class: Field.source stays.
    source = serializers.CharField()  # type: ignore[assignment]
    notes = serializers.ListField(child=serializers.CharField(), required=False)
    biller = _BillerIn()
    settings = _SettingIn(many=True)
    options = _OptionIn(many=True)
    bif_customizations = _CustomizationIn(many=True)
    invoice_types = _InvoiceTypeIn(many=True)
    field_mappings = _MappingIn(many=True)
    required_mapping = _RequiredIn(many=True, required=False)

    def validate_settings(self, value):
        return _unique(value, "setting_id", "setting ID")

    def validate_options(self, value):
        return _unique(value, "option_id", "option ID")

    def validate_bif_customizations(self, value):
        return _unique(value, "name", "customization")

    def validate_invoice_types(self, value):
        return _unique(value, "type_id", "invoice type ID")

    def validate_field_mappings(self, value):
        return _unique(value, "file_spec_id", "FileSpecID")


@dataclass
class PresetLoadResult:
    name: str
    biller: Biller | None  # None only while the biller itself is loaded
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    secrets_missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _flatten(errors, prefix="") -> list[str]:
    if isinstance(errors, Mapping):
        out = []
        for key, value in errors.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else key
            out += _flatten(value, name)
        return out
    if isinstance(errors, list) and errors and not isinstance(errors[0], str):
        out = []
        for position, item in enumerate(errors):
            if item:
                out += _flatten(item, f"{prefix}[{position}]")
        return out
    return [f"{prefix or 'preset'}: {message}" for message in errors]


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESET_DIR.glob("*.json"))


def preset_read(*, name: str, path: Path | None = None) -> dict:
    """Read and check one preset file; raises ApplicationError naming every problem."""
    path = path or PRESET_DIR / f"{name}.json"
    if not path.is_file():
        raise ApplicationError(
            f"No preset named {name!r} (known: {', '.join(preset_names())}).",
            code="unknown_preset",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ApplicationError(
            f"Preset {name}: not valid JSON ({e}).", code="invalid_preset"
        ) from e
    checked = PresetIn(data=data)
    if not checked.is_valid():
        problems = _flatten(checked.errors)
        raise ApplicationError(
            f"Preset {name} is invalid: " + "; ".join(problems),
            code="invalid_preset",
            extra={"problems": problems},
        )
    data = checked.validated_data
    problems = document_required_mapping_problems(data=data)  # every required field mapped
    if problems:
        raise ApplicationError(
            f"Preset {name} is invalid: " + "; ".join(problems),
            code="invalid_preset",
            extra={"problems": problems},
        )
    return data


def _full_clean(result: PresetLoadResult, obj: models.Model, label: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as e:
        if hasattr(e, "error_dict"):
            problems = [
                message if key == "__all__" else f"{key}: {message}"
                for key, messages in e.message_dict.items()
                for message in messages
            ]
        else:
            problems = e.messages
        raise ApplicationError(
            f"Preset {result.name}: {label}: " + "; ".join(problems),
            code="invalid_preset",
            extra={"problems": problems},
        ) from None


def _upsert(result: PresetLoadResult, model: type[models.Model], lookup: dict, values: dict):
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        state = "created"
    else:
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            result.unchanged += 1
            return obj
        for name in changed:
            setattr(obj, name, values[name])
        state = "updated"
    label = " ".join(
        f"{key}={value.pk if isinstance(value, models.Model) else value}"
        for key, value in lookup.items()
    )
    _full_clean(result, obj, f"{model._meta.verbose_name} {label}")
    obj.save()
    setattr(result, state, getattr(result, state) + 1)
    return obj


def _load_setting(
    result: PresetLoadResult, name: str, biller: Biller, item: dict, environ: Mapping[str, str]
) -> None:
    """One setting of a preset: a secret from its environment variable, else the value."""
    definition = setting_definition_get(setting_id=item["setting_id"])
    if "secret_env" in item:
        if not definition.is_secret:
            raise ApplicationError(
                f"Preset {name}: setting {definition.id} is not a secret; give its value.",
                code="invalid_preset",
            )
        value = environ.get(item["secret_env"], "")
        if not value:
            result.secrets_missing.append(f"{definition.id} ({item['secret_env']})")
            return
    else:
        if definition.is_secret:
            raise ApplicationError(
                f"Preset {name}: setting {definition.id} is a secret; a preset names the "
                "environment variable that holds it (secret_env), never the value.",
                code="invalid_preset",
            )
        value = item["value"]
    setting = BillerSetting.objects.filter(biller=biller, setting=definition).first()
    created = setting is None
    setting = setting or BillerSetting(biller=biller, setting=definition)
    try:
        changed = setting_value_apply(setting=setting, value=value)
    except ApplicationError as e:
        raise ApplicationError(
            f"Preset {name}: {e.message}", code="invalid_preset", extra=e.extra
        ) from None
    if changed:
        _full_clean(result, setting, f"setting {definition.id}")
        setting.save()
        if created:
            result.created += 1
        else:
            result.updated += 1
    else:
        result.unchanged += 1


def _biller_values(result: PresetLoadResult, biller_in: dict, activate: bool) -> dict:
    """The preset's biller fields but the go-live ones: a new biller starts inactive
    in the test environment and an existing one keeps its own, unless `activate`
    (the demo and the tests): then it is made active."""
    values = {k: v for k, v in biller_in.items() if k not in ("bid", "is_active", "environment")}
    exists = Biller.objects.filter(bid=biller_in["bid"]).exists()
    if not exists:
        values.update(environment=Environment.TEST.value, is_active=False)
    if activate:
        values["is_active"] = True
    elif biller_in.get("is_active") or biller_in.get("environment") != Environment.TEST:
        result.notes.append(
            f"environment {biller_in.get('environment')!r}, is_active "
            f"{biller_in.get('is_active')} in the preset ignored: a preset does not take a "
            "biller live (its go-live checklist does; --activate is for the demo and tests)."
        )
    return values


def _load(name: str, data: dict, environ: Mapping[str, str], activate: bool) -> PresetLoadResult:
    biller_in = data["biller"]
    result = PresetLoadResult(name=name, biller=None)
    biller = _upsert(
        result, Biller, {"bid": biller_in["bid"]}, _biller_values(result, biller_in, activate)
    )
    result.biller = biller

    for item in data["settings"]:
        _load_setting(result, name, biller, item, environ)

    for item in data["options"]:
        try:
            option = IntegrationOption.objects.get(pk=item["option_id"])
        except IntegrationOption.DoesNotExist:
            raise ApplicationError(
                f"Preset {name}: option {item['option_id']} is not in the integration options "
                "catalog.",
                code="invalid_preset",
            ) from None
        _upsert(
            result, BillerOption, {"biller": biller, "option": option}, {"enabled": item["enabled"]}
        )

    for item in data["bif_customizations"]:
        _upsert(
            result,
            BifCustomization,
            {"biller": biller, "name": item["name"]},
            {"value": item["value"], "note": item["note"]},
        )

    for item in data["invoice_types"]:
        _upsert(
            result,
            InvoiceType,
            {"biller": biller, "type_id": item["type_id"]},
            {key: item[key] for key in ("name", "virtual_site", "note")},
        )

    for item in data["field_mappings"]:
        values = {key: value for key, value in item.items() if key != "file_spec_id"}
        _upsert(
            result, FieldMapping, {"biller": biller, "file_spec_id": item["file_spec_id"]}, values
        )
    return result


def biller_preset_load(
    *,
    name: str,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    activate: bool = False,
) -> PresetLoadResult:
    """Load one preset, all or nothing. Its biller is never taken live by it: a new
    one starts inactive in test, an existing one keeps `is_active` and `environment`.
    `activate` makes it active bypassing the go-live checklist: the demo and the
    tests only (ICI_MODE demo or test), refused otherwise."""
    if activate and settings.ICI_MODE not in DEMO_MODES:
        raise ApplicationError(
            f"Preset {name}: activating a biller from a preset is for the demo and the tests "
            f"only (ICI_MODE={settings.ICI_MODE}); activate it from its go-live checklist.",
            code="demo_only",
        )
    data = preset_read(name=name, path=path)
    environ = os.environ if environ is None else environ
    with transaction.atomic():
        return _load(name, data, environ, activate)
