"""Import of a biller configuration document: its differences, and applying it.

`biller_document_diff` says, section by section, what applying a document would
change, and changes nothing. `biller_document_apply` makes the biller (found by
BID, created when there is none) hold the document's configuration, all or
nothing, each row saved with the user in the audit history. Rows the document
does not list are removed (it is the whole configuration), except secrets: a
secret the document does not give a value for is left as it is, never cleared,
and a new biller's secrets start empty. Nor does a document take a biller live:
a new biller starts inactive in the test environment, an existing one keeps its
`is_active` and `environment` (the go-live checklist changes them); what a
document says of them otherwise is a note of the differences. The export is
billers.selectors.biller_document_export; the form is in document_schema.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

from billers.choices import Environment
from billers.hooks import settings_saved_notify
from billers.models import (
    BifCustomization,
    Biller,
    BillerOption,
    BillerSetting,
    FieldMapping,
    IntegrationOption,
    Invoice,
    InvoiceType,
    SettingDefinition,
)
from billers.services.document_schema import (
    BILLER_FIELDS,
    CUSTOMIZATION_FIELDS,
    INVOICE_TYPE_FIELDS,
    MAPPING_FIELDS,
    biller_document_check_form,
    invalid_document,
)
from billers.services.mapping_requirements import document_required_mapping_problems
from billers.services.settings import setting_value_apply
from icintegrations.errors import ApplicationError

SECTIONS = (
    "biller",
    "settings",
    "options",
    "bif_customizations",
    "invoice_types",
    "field_mappings",
)
IMPORT_REASON = "configuration document imported"
_SYMBOLS = {"add": "+", "change": "~", "remove": "-"}


@dataclass(frozen=True)
class Change:
    """One difference: a row added, changed or removed; `fields` are (name,
    before, after) as shown to people (a secret is never shown)."""

    action: str  # add | change | remove
    label: str
    fields: tuple[tuple[str, str, str], ...] = ()

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self.action]

    def line(self) -> str:
        if self.action == "add":
            shown = ", ".join(f"{name}={after}" for name, _, after in self.fields)
            return f"+ {self.label}" + (f": {shown}" if shown else "")
        if self.action == "change":
            shown = "; ".join(f"{name} {before} -> {after}" for name, before, after in self.fields)
            return f"~ {self.label}: {shown}"
        return f"- {self.label}"


@dataclass
class _Step:
    obj: models.Model
    change: Change
    delete: bool = False


@dataclass
class BillerDocumentDiff:
    """What a document changes on its biller (found by BID), section by section."""

    bid: int
    creates: bool
    sections: dict[str, list[Change]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    biller: Biller | None = None  # the biller as the document has it (unsaved changes)
    steps: dict[str, list[_Step]] = field(default_factory=dict, repr=False)

    @property
    def change_count(self) -> int:
        return sum(len(changes) for changes in self.sections.values())

    @property
    def is_empty(self) -> bool:
        return self.change_count == 0

    @property
    def section_items(self) -> list[tuple[str, list[Change]]]:
        return [(name, self.sections.get(name, [])) for name in SECTIONS]

    def lines(self) -> list[str]:
        head = "a new biller" if self.creates else "an existing biller"
        out = [f"Biller {self.bid} ({head}): {self.change_count} difference(s)"]
        for name, changes in self.section_items:
            out.append(f"{name}:" if changes else f"{name}: no change")
            out += [f"  {change.line()}" for change in changes]
        out += [f"note: {note}" for note in self.notes]
        return out


GO_LIVE_FIELDS = ("environment", "is_active")  # the go-live checklist's, never a document's


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _clean(problems: list[str], path: str, obj: models.Model) -> None:
    try:
        obj.full_clean(exclude=["biller"])
    except ValidationError as e:
        if not hasattr(e, "error_dict"):
            problems += [f"{path}: {message}" for message in e.messages]
            return
        for key, messages in e.message_dict.items():
            where = path if key == "__all__" else f"{path}.{key}"
            problems += [f"{where}: {message}" for message in messages]


def _row_step(
    problems: list[str], path: str, obj: models.Model, values: Mapping, label: str
) -> _Step | None:
    """Put `values` into `obj` (not saved): the step that writes it, or None if unchanged."""
    new = obj.pk is None
    changed = [
        (name, getattr(obj, name), value)
        for name, value in values.items()
        if new or getattr(obj, name) != value
    ]
    if not changed:
        return None
    for name, _, value in changed:
        setattr(obj, name, value)
    _clean(problems, path, obj)
    if new:
        shown = tuple(
            (name, "", _shown(value)) for name, _, value in changed if value not in ("", None)
        )
        return _Step(obj, Change("add", label, shown))
    shown = tuple((name, _shown(old), _shown(value)) for name, old, value in changed)
    return _Step(obj, Change("change", label, shown))


def _duplicate(problems: list[str], seen: set, path: str, key: Any, what: str) -> bool:
    if key in seen:
        problems.append(f"{path}: duplicate {what} {key}.")
        return True
    seen.add(key)
    return False


def _go_live_fields_kept(diff: BillerDocumentDiff, biller: Biller, wanted: dict) -> None:
    """A document never takes a biller live: that is the go-live checklist's
    (onboarding.go_live). A new biller starts inactive in the test environment
    whatever the document says; an existing one keeps its own. Either is a note."""
    said = {name: wanted.pop(name) for name in GO_LIVE_FIELDS if name in wanted}
    if diff.creates:
        wanted.update(environment=Environment.TEST.value, is_active=False)
        ignored = [
            f"{name} {_shown(value)}" for name, value in said.items() if value != wanted[name]
        ]
        if ignored:
            diff.notes.append(
                f"biller: {', '.join(ignored)} ignored: a new biller starts inactive, in the "
                "test environment; its go-live checklist activates it and promotes it."
            )
        return
    ignored = [
        f"{name} {_shown(value)}" for name, value in said.items() if value != getattr(biller, name)
    ]
    if ignored:
        diff.notes.append(
            f"biller: {', '.join(ignored)} ignored: an import does not change whether a biller "
            "is active nor its environment; use its go-live checklist (Activate, Promote to "
            "production)."
        )


def _plan_biller(problems: list[str], diff: BillerDocumentDiff, values: Mapping, lock: bool):
    queryset = Biller.objects.select_for_update() if lock else Biller.objects
    biller = queryset.filter(bid=values["bid"]).first()
    diff.creates = biller is None
    biller = biller or Biller()
    wanted = {name: values[name] for name in BILLER_FIELDS if name in values}
    _go_live_fields_kept(diff, biller, wanted)
    step = _row_step(problems, "biller", biller, wanted, f"biller {values['bid']}")
    diff.biller = biller
    return [] if step is None else [step]


def _plan_settings(problems, diff: BillerDocumentDiff, items: list[dict], prune: bool):
    definitions = {d.pk: d for d in SettingDefinition.objects.all()}
    current = {}
    if not diff.creates:
        current = {
            row.setting_id: row
            for row in BillerSetting.objects.filter(biller=diff.biller).select_related("setting")
        }
    steps: list[_Step] = []
    seen: set = set()
    for position, item in enumerate(items):
        path, setting_id = f"settings[{position}]", item["setting_id"]
        if _duplicate(problems, seen, f"{path}.setting_id", setting_id, "setting"):
            continue
        definition = definitions.get(setting_id)
        if definition is None:
            problems.append(
                f"{path}.setting_id: setting {setting_id} is not in the Advanced Settings catalog."
            )
            continue
        if item.get("secret") and not definition.is_secret:
            problems.append(f"{path}.secret: setting {setting_id} is not a secret.")
            continue
        row = current.get(setting_id)
        if definition.is_secret and "value" not in item:
            if item.get("set") and not (row is not None and row.secret):
                diff.notes.append(
                    f"setting {setting_id}: the secret was set where the document comes from "
                    "and is not set here; set it in the admin."
                )
            continue  # a secret without a value is left as it is
        row = row or BillerSetting(setting=definition)
        before, had_secret, new = row.value, bool(row.secret), row.pk is None
        try:
            if not setting_value_apply(setting=row, value=item["value"]):
                continue
        except ApplicationError as e:
            problems.append(f"{path}.value: {e.message}")
            continue
        if definition.is_secret:
            shown = ("secret", "(set)" if had_secret else "(not set)", "(a new value)")
        else:
            shown = ("value", _shown(before), _shown(row.value))
        action = "add" if new else "change"
        steps.append(_Step(row, Change(action, f"setting {setting_id}", (shown,))))
    if prune:
        steps += [
            _Step(row, Change("remove", f"setting {setting_id}"), delete=True)
            for setting_id, row in current.items()
            if setting_id not in seen and not row.setting.is_secret
        ]
    return steps


def _plan_rows(
    problems: list[str],
    diff: BillerDocumentDiff,
    section: str,
    items: Iterable[dict],
    *,
    model: type[models.Model],
    key: str,
    fields: Iterable[str],
    label,
    prune: bool,
    make=None,
):
    """The steps of one section of rows keyed by `key` (a FileSpecID, a name, ...)."""
    current = {}
    if not diff.creates:
        current = {
            getattr(row, key): row for row in model._default_manager.filter(biller=diff.biller)
        }
    steps: list[_Step] = []
    seen: set = set()
    for position, item in enumerate(items):
        path = f"{section}[{position}]"
        if _duplicate(problems, seen, f"{path}.{key}", item[key], key):
            continue
        row = current.get(item[key])
        if row is None:
            row = make(problems, path, item) if make else model(**{key: item[key]})
            if row is None:
                continue
        values = {name: item[name] for name in fields if name != key}
        step = _row_step(problems, path, row, values, label(item))
        if step is not None:
            steps.append(step)
    if prune:
        for value, row in current.items():
            if value in seen:
                continue
            if model is InvoiceType and Invoice.objects.filter(invoice_type_id=row.pk).exists():
                problems.append(
                    f"{section}: invoice type {value} is used by invoices and cannot be removed; "
                    "keep it in the document."
                )
                continue
            shown = {name: getattr(row, name) for name in fields}
            steps.append(_Step(row, Change("remove", label(shown)), delete=True))
    return steps


def _new_option(problems: list[str], path: str, item: dict) -> BillerOption | None:
    option = IntegrationOption.objects.filter(pk=item["option_id"]).first()
    if option is None:
        problems.append(
            f"{path}.option_id: option {item['option_id']} is not in the integration "
            "options catalog."
        )
        return None
    return BillerOption(option=option)


def biller_document_plan(data: Mapping, *, prune: bool, lock: bool = False) -> BillerDocumentDiff:
    """Every difference between a checked document and its biller; raises
    `invalid_document` naming every problem (catalogs, the models' rules)."""
    problems: list[str] = []
    diff = BillerDocumentDiff(bid=data["biller"]["bid"], creates=False)
    steps = diff.steps
    steps["biller"] = _plan_biller(problems, diff, data["biller"], lock)
    steps["settings"] = _plan_settings(problems, diff, data["settings"], prune)
    steps["options"] = _plan_rows(
        problems, diff, "options", data["options"], model=BillerOption, key="option_id",
        fields=("option_id", "enabled"), label=lambda item: f"option {item['option_id']}",
        prune=prune, make=_new_option,
    )  # fmt: skip
    steps["bif_customizations"] = _plan_rows(
        problems, diff, "bif_customizations", data["bif_customizations"],
        model=BifCustomization, key="name", fields=CUSTOMIZATION_FIELDS,
        label=lambda item: f"customization {item['name']}", prune=prune,
    )  # fmt: skip
    steps["invoice_types"] = _plan_rows(
        problems, diff, "invoice_types", data["invoice_types"], model=InvoiceType,
        key="type_id", fields=INVOICE_TYPE_FIELDS,
        label=lambda item: f"invoice type {item['type_id']}", prune=prune,
    )  # fmt: skip
    steps["field_mappings"] = _plan_rows(
        problems, diff, "field_mappings", data["field_mappings"], model=FieldMapping,
        key="file_spec_id", fields=MAPPING_FIELDS,
        label=lambda item: (
            f"FileSpecID {item['file_spec_id']} {item['ic_field']} ({item['record_type']})"
        ),
        prune=prune,
    )  # fmt: skip
    problems += document_required_mapping_problems(data=data)
    if problems:
        raise invalid_document(problems)
    diff.sections = {name: [step.change for step in steps[name]] for name in SECTIONS}
    return diff


def biller_document_diff(*, document: Mapping) -> BillerDocumentDiff:
    """What applying the document would change; nothing is written."""
    data = biller_document_check_form(document=document)
    with transaction.atomic():
        diff = biller_document_plan(data, prune=True)
        transaction.set_rollback(True)  # nothing planned is ever saved, whatever happens
    return diff


def _save(step: _Step, biller: Biller, user: AbstractBaseUser | None, reason: str) -> None:
    obj = step.obj
    obj._history_user = user  # type: ignore[attr-defined]  # django-simple-history
    obj._change_reason = reason  # type: ignore[attr-defined]
    if step.delete:
        obj.delete()
        return
    obj.biller = biller  # type: ignore[attr-defined]
    obj.save()


@transaction.atomic
def biller_document_apply(
    *, document: Mapping, user: AbstractBaseUser | None = None, reason: str = IMPORT_REASON
) -> BillerDocumentDiff:
    """Apply the document to its biller, all or nothing; returns what changed.
    The biller row is saved whenever anything changes, so its history records
    who imported a document and when (`reason`, e.g. a template's name)."""
    data = biller_document_check_form(document=document)
    diff = biller_document_plan(data, prune=True, lock=True)
    if diff.is_empty:
        return diff
    biller = diff.biller
    assert biller is not None
    biller._history_user = user  # type: ignore[attr-defined]
    biller._change_reason = reason  # type: ignore[attr-defined]
    biller.save()
    for name in SECTIONS[1:]:
        for step in diff.steps[name]:
            _save(step, biller, user, reason)
    if diff.steps["settings"]:
        settings_saved_notify(biller_id=biller.pk)
    return diff
