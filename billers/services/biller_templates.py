"""A new biller from a partner template, or as a clone of an existing biller.

Either way the new biller is one configuration document applied
(billers.services.config_document.biller_document_apply): its settings, options,
BIF customizations, invoice types and field mapping, all or nothing, audited with
the user and the reason ("created from template CitizenServe", "cloned from biller
2249 ..."). It starts inactive, in the test environment, with its secret settings
empty: a template has none, and a clone never copies them.

Whoever adds it gives the biller's own values: BID, name, BillerGuid, time zone,
and the per-biller values inside its settings (CitizenServe's `report_ID` and
`installationID` in setting 8; billers.templates). A refusal (BID or BillerGuid
taken, a value missing or invalid, a document the hub would refuse) changes nothing.
"""

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from billers.choices import Environment
from billers.models import Biller
from billers.selectors import biller_document_export
from billers.services.config_document import BillerDocumentDiff, biller_document_apply
from billers.templates import (
    TemplateValue,
    partner_template,
    partner_template_values,
    template_value_read,
    template_value_write,
)
from icintegrations.errors import ApplicationError, ErrorCode


@dataclass(frozen=True)
class BillerSource:
    """What a new biller is made from: a template's document or a biller's export."""

    label: str  # "template CitizenServe", "biller 2249 City of Peoria AZ"
    document: dict
    values: tuple[TemplateValue, ...] = ()
    notes: tuple[str, ...] = ()
    template_key: str = ""  # the template's key, or ""
    clone_of: Biller | None = None

    def initial(self) -> dict[str, str]:
        """The values a form starts with: the source's time zone and per-biller values
        (a template's are blank)."""
        settings = {item["setting_id"]: item.get("value", "") for item in self.document["settings"]}
        out = {"time_zone": self.document["biller"].get("time_zone", "")}
        for spec in self.values:
            out[spec.key] = template_value_read(settings.get(spec.setting_id, ""), spec.param)
        return out

    @property
    def secret_ids(self) -> list[int]:
        return [item["setting_id"] for item in self.document["settings"] if item.get("secret")]


@dataclass
class BillerCreated:
    biller: Biller
    diff: BillerDocumentDiff
    notes: list[str] = field(default_factory=list)


def biller_source_template(*, key: str) -> BillerSource:
    """A partner template as a source (`unknown_template` when there is none)."""
    template = partner_template(key=key)
    return BillerSource(
        label=f"template {template.name}",
        document=copy.deepcopy(template.document),
        values=template.values,
        notes=template.notes,
        template_key=template.key,
    )


def biller_source_clone(*, biller: Biller) -> BillerSource:
    """An existing biller as a source: its whole configuration but its secrets."""
    document = biller_document_export(biller=biller)
    document["settings"] = [
        {"setting_id": item["setting_id"], "secret": True} if item.get("secret") else item
        for item in document["settings"]
    ]
    present = {item["setting_id"] for item in document["settings"] if "value" in item}
    values = tuple(
        spec
        for spec in partner_template_values(partner=biller.partner)
        if spec.setting_id in present
    )
    notes = ["A clone never copies secrets: set them on the new biller's page."]
    if biller.environment != Environment.TEST:
        notes.append(
            f"Biller {biller.bid} is in {biller.get_environment_display().lower()}: its URL "
            "settings were copied as they are; check that they are the test ones."
        )
    return BillerSource(
        label=f"biller {biller}",
        document=document,
        values=values,
        notes=tuple(notes),
        clone_of=biller,
    )


def _refusal(problems: list[str], code: ErrorCode) -> ApplicationError:
    return ApplicationError(
        "Nothing was created: " + " ".join(problems), code=code, extra={"problems": problems}
    )


def _document(source: BillerSource, own: Mapping[str, object], values: Mapping[str, str]) -> dict:
    """The source's document with the biller's own values put in (checked first)."""
    wanted = {spec.key: str(values.get(spec.key) or "").strip() for spec in source.values}
    problems = [p for spec in source.values if (p := spec.problem(wanted[spec.key]))]
    if problems:
        raise _refusal(problems, ErrorCode.INVALID_TEMPLATE_VALUE)
    document = copy.deepcopy(source.document)
    document["biller"].update(own, environment=Environment.TEST.value, is_active=False)
    for item in document["settings"]:
        for spec in source.values:
            if spec.setting_id == item["setting_id"] and "value" in item:
                item["value"] = template_value_write(item["value"], spec.param, wanted[spec.key])
    return document


def _taken(bid: int, biller_guid: uuid.UUID | str) -> None:
    taken = Biller.objects.filter(bid=bid).first()
    if taken is not None:
        raise _refusal([f"BID {bid} is taken by biller {taken}."], ErrorCode.BILLER_EXISTS)
    try:
        guid = uuid.UUID(str(biller_guid))
    except ValueError:
        return  # the document's check names it
    taken = Biller.objects.filter(biller_guid=guid).first()
    if taken is not None:
        raise _refusal(
            [f"BillerGuid {guid} is taken by biller {taken}."], ErrorCode.BILLER_GUID_TAKEN
        )


def biller_create(
    *,
    source: BillerSource,
    bid: int,
    name: str,
    biller_guid: uuid.UUID | str,
    time_zone: str,
    values: Mapping[str, str] | None = None,
    user: AbstractBaseUser | None = None,
) -> BillerCreated:
    """Create biller `bid` from `source`, inactive in the test environment, all or
    nothing. Refusals: `biller_exists`, `biller_guid_taken`, `invalid_template_value`
    and `invalid_document` (naming the JSON path), each with `extra["problems"]`."""
    own = {"bid": bid, "name": name, "biller_guid": str(biller_guid), "time_zone": time_zone}
    document = _document(source, own, values or {})
    try:
        with transaction.atomic():
            _taken(bid, biller_guid)
            diff = biller_document_apply(
                document=document, user=user, reason=f"created from {source.label}"
            )
    except IntegrityError:  # another request took the BID or the GUID meanwhile
        raise _refusal(
            [f"BID {bid} or BillerGuid {biller_guid} was taken meanwhile."],
            ErrorCode.BILLER_EXISTS,
        ) from None
    biller = Biller.objects.get(bid=bid)
    notes = list(source.notes) + diff.notes
    return BillerCreated(biller=biller, diff=diff, notes=notes)
