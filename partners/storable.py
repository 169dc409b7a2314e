"""Whether a mapped partner record can be stored as an invoice and its customer.

A record may map without an error and still be one the hub cannot store: the
mapping of an incomplete biller gives no total (a NOT NULL column). Such a record
is a bad record (502 `partner_bad_record`, naming the field), never a missing
invoice, and never taken for a race with an invoice file.
"""

from dataclasses import dataclass

from django.db import models

from billers.catalog import REQUIRED_MAPPING
from billers.models import Customer, Invoice
from icintegrations.errors import ErrorCode, PartnerFailedError
from partners.mapping import IC_FIELDS, MappedRecord, MappingError

# Columns the writer (partners.services.rtdr.invoice_create_from_partner) fills
# itself, whatever the mapping gives.
_WRITTEN = {
    "invoice": {"biller", "customer", "invoice_number", "raw_payload", "refreshed_via"},
    "customer": {"biller", "account_number"},
}
_MODELS: dict[str, type[models.Model]] = {"invoice": Invoice, "customer": Customer}
_IC_FIELD_OF = {(target, name): ic_field for ic_field, (target, name, _) in IC_FIELDS.items()}
_FILE_SPEC_ID_OF = {ic: fsid for pairs in REQUIRED_MAPPING.values() for fsid, ic in pairs}


def _needed(model: type[models.Model], written: set[str]) -> list[str]:
    """The model's columns that take no NULL and have no default: the record must give them."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if not field.null
        and not field.has_default()
        and not field.empty_strings_allowed  # a text column defaults to ""
        and not field.primary_key
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
        and field.name not in written
    ]


_NEEDED = {target: _needed(model, _WRITTEN[target]) for target, model in _MODELS.items()}


def storable_problems(mapped: MappedRecord, file_spec_ids: dict[str, int]) -> list[MappingError]:
    """The columns `mapped` leaves empty that the hub cannot store an invoice
    without, as mapping errors (FileSpecID from the biller's rows, `file_spec_ids`,
    else the one the documents give the IC field)."""
    problems = []
    for target, needed in _NEEDED.items():
        values = mapped.invoice if target == "invoice" else mapped.customer
        for name in needed:
            if values.get(name) is None:
                ic_field = _IC_FIELD_OF.get((target, name), name)
                file_spec_id = file_spec_ids.get(ic_field, _FILE_SPEC_ID_OF.get(ic_field, 0))
                problems.append(
                    MappingError(
                        file_spec_id,
                        ic_field,
                        "the hub cannot store an invoice without it, and the biller's "
                        "mapping gives no value (map it, and mark it required)",
                    )
                )
    return problems


@dataclass(frozen=True)
class BadRecordField:
    file_spec_id: int
    ic_field: str


class BadRecordError(PartnerFailedError):
    """502 `partner_bad_record`: the partner's record cannot be mapped or stored.
    Names the fields (never their values: they are the partner's data)."""

    def __init__(self, errors: list[MappingError]):
        fields = list(dict.fromkeys(BadRecordField(e.file_spec_id, e.ic_field) for e in errors))
        named = ", ".join(f"{f.ic_field} (FileSpecID {f.file_spec_id})" for f in fields)
        super().__init__(
            f"The partner's record cannot be used: {named}."
            if fields
            else "The partner's record cannot be stored.",
            code=ErrorCode.PARTNER_BAD_RECORD,
            extra={
                "fields": [{"file_spec_id": f.file_spec_id, "ic_field": f.ic_field} for f in fields]
            },
        )
