"""Partner templates: the whole configuration a new biller of a partner starts from.

A template is a configuration document (billers.services.document_schema) without
the values that belong to one biller: no BID, name, BillerGuid or time zone, the
new biller inactive in the test environment, and its secret settings without a
value (`{"setting_id": 13, "secret": true}`: they stay empty until they are set in
the admin). Each is derived from a preset (billers/presets/*.json), the two
documents' configurations: CitizenServe from Peoria's, IMT from IMT's.

Some values inside a template's settings belong to one biller too: CitizenServe's
`report_ID` and `installationID`, query parameters of setting 8 (the getQuery URL,
see the seeds' Peoria document). A template blanks them and names them in
`values`; whoever adds a biller from the template gives them
(billers.services.biller_templates).

This module is the one place that knows the partner templates: `partner_templates()`.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache

from billers.catalog import SettingId
from billers.choices import Environment, Partner
from billers.services.document_schema import DOCUMENT_FORMAT
from billers.services.presets import PRESET_DIR
from icintegrations.errors import ApplicationError, ErrorCode

# The biller's own values: given by whoever adds a biller, never a template's.
BILLER_OWN_FIELDS = ("bid", "name", "biller_guid", "time_zone")


@dataclass(frozen=True)
class TemplateValue:
    """A per-biller value inside a URL setting: one query parameter of it."""

    setting_id: int
    param: str
    label: str
    help_text: str
    pattern: str = r"[0-9]+"
    pattern_says: str = "a whole number"

    @property
    def key(self) -> str:
        """Its name as a form field."""
        return f"setting_{self.setting_id}_{self.param}"

    def problem(self, value: str) -> str | None:
        """What is wrong with `value`, or None."""
        if not value:
            return f"{self.label}: give a value."
        if not re.fullmatch(self.pattern, value):
            return f"{self.label}: {value!r} is not {self.pattern_says}."
        return None


@dataclass(frozen=True)
class PartnerTemplate:
    key: str  # "citizenserve": in URLs and in the admin's choice
    partner: str
    name: str
    description: str
    document: dict  # a format-1 document without the biller's own values
    values: tuple[TemplateValue, ...] = ()
    origin: str = ""  # the preset it derives from
    notes: tuple[str, ...] = field(default=())

    @property
    def secret_ids(self) -> list[int]:
        return [item["setting_id"] for item in self.document["settings"] if item.get("secret")]


def _citizenserve_values() -> tuple[TemplateValue, ...]:
    return (
        TemplateValue(
            SettingId.RTDR_URL,
            "report_ID",
            "report_ID (setting 8)",
            "The CitizenServe getQuery report of the biller's licenses (Peoria's is 641).",
        ),
        TemplateValue(
            SettingId.RTDR_URL,
            "installationID",
            "installationID (setting 8)",
            "The biller's CitizenServe installation (Peoria's is 24); Custom1 of every "
            "invoice and the payments carry it.",
        ),
    )


# key, partner, name, the preset it derives from, its per-biller values, its notes.
_SPECS = (
    (
        "citizenserve",
        Partner.CITIZENSERVE,
        "CitizenServe",
        "peoria",
        _citizenserve_values(),
        "A city on CitizenServe: licenses looked up in real time (getQuery) and payments "
        "posted back (addlicensepayment).",
    ),
    (
        "imt",
        Partner.IMT,
        "IMT",
        "imt",
        (),
        "A biller on IMT: invoice files, balances refreshed in real time and payments posted back.",
    ),
)


def template_value_read(url: str, param: str) -> str:
    """The value of query parameter `param` in `url` ('' when it has none)."""
    found = re.search(rf"[?&]{re.escape(param)}=([^&#]*)", url)
    return found.group(1) if found else ""


def template_value_write(url: str, param: str, value: str) -> str:
    """`url` with query parameter `param` set to `value`, everything else as it was."""
    pattern = rf"([?&]{re.escape(param)}=)[^&#]*"
    if re.search(pattern, url):
        return re.sub(pattern, lambda m: m.group(1) + value, url, count=1)
    return f"{url}{'&' if '?' in url else '?'}{param}={value}"


def _template(key, partner, name, preset, values, description) -> PartnerTemplate:
    data = json.loads((PRESET_DIR / f"{preset}.json").read_text(encoding="utf-8"))
    biller = {
        k: v for k, v in data["biller"].items() if k not in BILLER_OWN_FIELDS and k != "is_active"
    }
    biller.update(partner=str(partner), environment=Environment.TEST.value, is_active=False)
    settings = []
    for item in data["settings"]:
        if "secret_env" in item:  # a template carries no secret, nor where one is
            settings.append({"setting_id": item["setting_id"], "secret": True})
            continue
        value = item["value"]
        for spec in values:
            if spec.setting_id == item["setting_id"]:
                value = template_value_write(value, spec.param, "")
        settings.append({"setting_id": item["setting_id"], "value": value})
    document = {
        "format": DOCUMENT_FORMAT,
        "biller": biller,
        "settings": settings,
        **{
            section: data[section]
            for section in (
                "options",
                "bif_customizations",
                "invoice_types",
                "required_mapping",
                "field_mappings",
            )
        },
    }
    secrets = ", ".join(str(item["setting_id"]) for item in settings if item.get("secret"))
    notes = (f"Secret settings {secrets} start empty: set them on the new biller's page.",)
    origin = f"the {preset} preset ({data['source']})"
    return PartnerTemplate(key, str(partner), name, description, document, values, origin, notes)


@cache
def _templates() -> tuple[PartnerTemplate, ...]:
    return tuple(_template(*spec) for spec in _SPECS)


def partner_templates() -> list[PartnerTemplate]:
    """Every partner template shipped with the hub, CitizenServe then IMT. The
    documents are shared: copy one before changing it."""
    return list(_templates())


def partner_template(*, key: str) -> PartnerTemplate:
    for template in _templates():
        if template.key == key:
            return template
    known = ", ".join(t.key for t in _templates())
    raise ApplicationError(
        f"No partner template {key!r} (known: {known}).", code=ErrorCode.UNKNOWN_TEMPLATE
    )


def partner_template_values(*, partner: str) -> tuple[TemplateValue, ...]:
    """The per-biller values of a partner's billers (a clone asks for them too)."""
    for template in _templates():
        if template.partner == partner:
            return template.values
    return ()
