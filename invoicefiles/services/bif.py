"""The Biller Invoice File (BIF): the provider's own pipe-delimited invoice file.

One File Header (FH) row, then for each invoice its Invoice Header (IH),
Customer Record (CR) and Invoice Detail (ID) rows. The columns of each row are
the biller's field mapping rows of that record type, in FileSpecID order; a
value comes from the invoice as mapped (partner field, constant, year of the
invoice date, ...), the File Header's from the hub. A column the mapping does
not fill (`none`, or generated with nothing to generate, such as
InvoiceFormatGuid) is empty.

Formats: dates YYYY-MM-DD, amounts with two decimals, Yes/No, whole numbers.
Values are made safe for the format: `|`, CR, LF, tab, every other control
character (C0, DEL, C1) and the Unicode line and paragraph separators become a
space. Lines end with CRLF; the file is UTF-8 without a byte-order mark.
"""

import datetime
import os
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from billers.models import MappingRule, RecordType
from invoicefiles.services.staging import KIND, STAGE_COLUMN
from partners.mapping import IC_FIELDS, TEXT, YESNO

_UNSAFE = {c: " " for c in [*range(0, 32), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]}
_UNSAFE[ord("|")] = " "
SAFE = str.maketrans(_UNSAFE)
NEWLINE = "\r\n"


def bif_safe(value: str) -> str:
    return value.translate(SAFE)


def _value(record, entry) -> str:
    constant, column, kind = entry
    if column is None:
        return constant
    value = record[column]
    if value is None:
        return ""
    if kind == TEXT:
        return value.translate(SAFE)
    if kind == YESNO:
        return "Yes" if value else "No"
    # Amounts are stored with two decimals (numeric(14,2), or the engine's quantized
    # text on SQLite), dates as dates or ISO text: str() is their BIF form.
    return str(value)


def _plan(mapping_rows, record_type: str) -> list[tuple[str, str | None, str]]:
    """Per column: (constant, stage column or None, kind)."""
    plan = []
    for row in sorted(
        (r for r in mapping_rows if r.record_type == record_type), key=lambda r: r.file_spec_id
    ):
        if row.rule == MappingRule.CONSTANT:
            plan.append((bif_safe(row.rule_value), None, ""))
        elif row.ic_field in IC_FIELDS and (
            row.rule != MappingRule.NONE or row.ic_field == "BalanceDue"  # the engine fills it
        ):
            target, model_field, _ = IC_FIELDS[row.ic_field]
            column = STAGE_COLUMN[(target, model_field)]
            plan.append(("", column, KIND[column]))
        else:
            plan.append(("", None, ""))
    return plan


def bif_file_header(*, mapping_rows, biller, created: datetime.date, count: int, total) -> str:
    generated = {
        "BillerGuid": str(biller.biller_guid),
        "FileCreationDate": created.isoformat(),
        "InvoiceCount": str(count),
        "TotalInvoiceAmount": f"{Decimal(total):.2f}",
    }
    values = []
    for row in sorted(
        (r for r in mapping_rows if r.record_type == RecordType.FILE_HEADER),
        key=lambda r: r.file_spec_id,
    ):
        if row.rule == MappingRule.CONSTANT:
            values.append(bif_safe(row.rule_value))
        else:
            values.append(bif_safe(generated.get(row.ic_field, "")))
    return "|".join(values)


def bif_write(*, path: Path, biller, mapping_rows, stage, invoice_count: int, total_amount) -> None:
    """Write the BIF of the staged invoices (file order) to `path`, atomically."""
    plans = [
        _plan(mapping_rows, record_type)
        for record_type in (
            RecordType.INVOICE_HEADER,
            RecordType.CUSTOMER_RECORD,
            RecordType.INVOICE_DETAIL,
        )
    ]
    partial = path.with_suffix(".bif.part")
    header = bif_file_header(
        mapping_rows=mapping_rows,
        biller=biller,
        created=timezone.localdate(),
        count=invoice_count,
        total=total_amount,
    )
    with open(partial, "w", encoding="utf-8", newline="") as out:
        out.write(header + NEWLINE)
        lines = []
        for record in stage.rows():
            for plan in plans:
                lines.append("|".join([_value(record, entry) for entry in plan]))
            if len(lines) >= 3000:
                out.write(NEWLINE.join(lines) + NEWLINE)
                lines = []
        if lines:
            out.write(NEWLINE.join(lines) + NEWLINE)
    os.replace(partial, path)
