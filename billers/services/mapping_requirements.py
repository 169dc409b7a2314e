"""Required mapping: the IC fields a biller's mapping must give a value for.

Each partner has its list (billers.catalog.REQUIRED_MAPPING), so it holds for every
biller of the partner, however the biller was made; a template (a preset) may ask
for more with its `required_mapping`. Enforced wherever a mapping is saved: the
preset loader, the biller's admin page, the mapping row's admin page; shown by the
mapping review (onboarding.review).
"""

from collections.abc import Iterable, Mapping

from billers.catalog import REQUIRED_MAPPING
from billers.models import Biller, FieldMapping
from billers.validators import RequiredField, required_mapping_problems, validate_required_mapping


def required_mapping_for(
    *, partner: str, extra: Iterable[tuple[int, str]] = ()
) -> tuple[RequiredField, ...]:
    """The partner's required fields, then the template's own (`extra`), once each."""
    fields = [RequiredField(*pair) for pair in REQUIRED_MAPPING.get(partner, ())]
    fields += [RequiredField(*field) for field in extra]
    return tuple(dict.fromkeys(fields))


def mapping_requirements_validate(
    *, partner: str, rows: Iterable, required: Iterable[tuple[int, str]] = ()
) -> None:
    """Raise ValidationError (code `required_mapping`) naming the FileSpecID and IC
    field of each required field that `rows` (models or dicts) do not map."""
    validate_required_mapping(rows, required_mapping_for(partner=partner, extra=required))


def mapping_requirements_problems(
    *, partner: str, rows: Iterable, required: Iterable[tuple[int, str]] = ()
) -> list[str]:
    return required_mapping_problems(rows, required_mapping_for(partner=partner, extra=required))


def biller_mapping_problems(*, biller: Biller) -> list[tuple[RequiredField, str]]:
    """What the biller's mapping lacks of its partner's required fields: each
    required field with the message about it (for the mapping review)."""
    rows = list(biller.field_mappings.all())
    out = []
    for field in required_mapping_for(partner=biller.partner):
        out += [(field, message) for message in required_mapping_problems(rows, [field])]
    return out


def document_required_mapping_problems(*, data: Mapping) -> list[str]:
    """The required-mapping problems of a configuration document (a preset, its
    schema validated): its `field_mappings` against its partner's required fields
    and its own `required_mapping`, each message led by the JSON path."""
    required = [(r["file_spec_id"], r["ic_field"]) for r in data.get("required_mapping") or ()]
    problems = mapping_requirements_problems(
        partner=data["biller"]["partner"], rows=data["field_mappings"], required=required
    )
    return [f"field_mappings: {message}" for message in problems]


def mapping_row_change_problems(*, row_pk: int | None, new: Mapping | None) -> list[str]:
    """What saving one mapping row would newly make its biller's mapping lack: `new`
    holds the row's values with its `biller` (None deletes the row). A mapping that
    lacked a field before may still lack it: a row at a time, it is being mended."""
    billers: dict[int, Biller] = {}
    if row_pk is not None:
        old = FieldMapping.objects.select_related("biller").filter(pk=row_pk).first()
        if old is not None:
            billers[old.biller.pk] = old.biller
    if new is not None and new.get("biller") is not None:
        billers[new["biller"].pk] = new["biller"]
    problems: list[str] = []
    for biller in billers.values():
        rows = list(biller.field_mappings.all())
        before = set(mapping_requirements_problems(partner=biller.partner, rows=rows))
        after: list = [row for row in rows if row.pk != row_pk]
        if new is not None and new.get("biller") == biller:
            after.append(new)
        problems += [
            problem
            for problem in mapping_requirements_problems(partner=biller.partner, rows=after)
            if problem not in before
        ]
    return problems
