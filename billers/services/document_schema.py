"""The biller configuration document: its shape, and the check of its form.

A document is one biller's whole configuration as JSON, in the presets' schema
(billers/presets/*.json) with `"format": 1`: `biller`, `settings`, `options`,
`bif_customizations`, `invoice_types`, `field_mappings`. A setting is either
`{"setting_id": 8, "value": "..."}` or, for a secret, `{"setting_id": 10,
"secret": true, "set": true}`: the export says only whether the secret is set,
never its value. `preset`, `source`, `notes` and `required_mapping` may be
there too (a preset's keys); they are read and not stored. Any other key is
refused, so that a misspelt one is not silently dropped.

Every problem is named by its JSON path (`field_mappings[12].rule: unknown rule
'constnt'.`). The checks that need the database (the catalogs, the models'
rules) are in billers.services.config_document.
"""

import json
from collections.abc import Mapping

from rest_framework import serializers

from billers.models import MappingRule, RecordType
from billers.services.presets import (
    _BillerIn,
    _CustomizationIn,
    _flatten,
    _InvoiceTypeIn,
    _MappingIn,
    _OptionIn,
)
from icintegrations.errors import ApplicationError

DOCUMENT_FORMAT = 1
# A preset's keys, and the required mapping of a template: read, not stored.
IGNORED_KEYS = frozenset({"preset", "source", "notes", "required_mapping"})

BILLER_FIELDS = (
    "bid",
    "name",
    "biller_guid",
    "partner",
    "environment",
    "is_active",
    "time_zone",
    "lookup_requires_zip",
    "overpayment_allowance",
    "maximum_payment",
)
CUSTOMIZATION_FIELDS = ("name", "value", "note")
INVOICE_TYPE_FIELDS = ("type_id", "name", "virtual_site", "note")
MAPPING_FIELDS = (
    "file_spec_id",
    "ic_field",
    "record_type",
    "in_file",
    "required",
    "partner_field",
    "partner_field_label",
    "partner_format",
    "char_limit",
    "rule",
    "rule_value",
    "note",
)
# The same fields in the admin's column order (the biller page's mapping inline).
MAPPING_ROW_FIELDS = ("record_type", *(f for f in MAPPING_FIELDS if f != "record_type"))


class _Strict(serializers.Serializer):
    """Refuses keys it does not know, beside the fields' own errors."""

    allowed_extra: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {
                key: ["unknown key."]
                for key in data
                if key not in self.fields and key not in self.allowed_extra
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as e:
            detail = e.detail if isinstance(e.detail, dict) else {"non_field_errors": e.detail}
            raise serializers.ValidationError({**detail, **unknown}) from None
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class _DocBillerIn(_Strict, _BillerIn):
    lookup_requires_zip = serializers.BooleanField(required=False, default=False)


class _DocSettingIn(_Strict):
    setting_id = serializers.IntegerField(min_value=1)
    value = serializers.CharField(required=False, trim_whitespace=False)
    secret = serializers.BooleanField(required=False, default=False)
    set = serializers.BooleanField(required=False)  # what the export saw; informative
    secret_env = serializers.CharField(required=False)

    def validate_secret_env(self, value):
        raise serializers.ValidationError(
            "a document names no environment variable: give the secret's value, or "
            '"secret": true to leave it as it is.'
        )

    def validate(self, attrs):
        if "value" not in attrs and not attrs["secret"]:
            raise serializers.ValidationError(
                {"value": ['give the value, or "secret": true for a secret left as it is.']}
            )
        return attrs


class _DocOptionIn(_Strict, _OptionIn):
    pass


class _DocCustomizationIn(_Strict, _CustomizationIn):
    pass


class _DocInvoiceTypeIn(_Strict, _InvoiceTypeIn):
    pass


class _DocMappingIn(_Strict, _MappingIn):
    record_type = serializers.ChoiceField(
        choices=RecordType.choices,
        error_messages={"invalid_choice": "unknown record type '{input}'."},
    )
    rule = serializers.ChoiceField(
        choices=MappingRule.choices, error_messages={"invalid_choice": "unknown rule '{input}'."}
    )


class DocumentIn(_Strict):
    allowed_extra = IGNORED_KEYS | {"format"}

    biller = _DocBillerIn()
    settings = _DocSettingIn(many=True)
    options = _DocOptionIn(many=True)
    bif_customizations = _DocCustomizationIn(many=True)
    invoice_types = _DocInvoiceTypeIn(many=True)
    field_mappings = _DocMappingIn(many=True)


def invalid_document(problems: list[str]) -> ApplicationError:
    return ApplicationError(
        "The configuration document is invalid: " + "; ".join(problems),
        code="invalid_document",
        extra={"problems": problems},
    )


def biller_document_parse(*, text: str | bytes) -> dict:
    """The JSON text of a document as a dict (its form is not checked here)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise invalid_document([f"document: not valid JSON ({e})."]) from e
    if not isinstance(data, dict):
        raise invalid_document(["document: a JSON object is expected."])
    return data


def biller_document_check_form(*, document: Mapping) -> dict:
    """The document's validated data; raises ApplicationError naming every problem
    by its path, or `unsupported_document_format` for a format this hub does not read."""
    if not isinstance(document, Mapping):
        raise invalid_document(["document: a JSON object is expected."])
    found = document.get("format")
    if type(found) is not int or found != DOCUMENT_FORMAT:
        what = "no format" if found is None else f"format {json.dumps(found)}"
        raise ApplicationError(
            f"format: the document has {what}; this hub reads format {DOCUMENT_FORMAT}.",
            code="unsupported_document_format",
            extra={"problems": [f"format: this hub reads format {DOCUMENT_FORMAT}."]},
        )
    checked = DocumentIn(data=document)
    if not checked.is_valid():
        raise invalid_document(_flatten(checked.errors))
    return checked.validated_data
