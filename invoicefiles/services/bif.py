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
from decimal import Decimal
from typing import BinaryIO

from django.db import connection

from billers.models import MappingRule, RecordType
from billers.zones import today_in_zone
from invoicefiles.services.columns import KIND, STAGE_COLUMN, TABLE
from partners.mapping import DATE, IC_FIELDS, TEXT, YESNO

_UNSAFE = {c: " " for c in [*range(0, 32), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]}
_UNSAFE[ord("|")] = " "
SAFE = str.maketrans(_UNSAFE)
NEWLINE = "\r\n"
SQLITE_SAFE = "ici_bif_safe"
_PG_UNSAFE = "".join(chr(c) for c in _UNSAFE if c)  # PostgreSQL text never holds NUL


def bif_safe(value: str) -> str:
    return value.translate(SAFE)


def _sqlite_safe(value):
    return None if value is None else value.translate(SAFE)


def _plan(mapping_rows, record_type: str) -> list[tuple[str, str | None, str]]:
    """Per column: (constant, stage column or None, kind)."""
    plan: list[tuple[str, str | None, str]] = []
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


def _argument_sql(column: str, kind: str, postgres: bool, safe: bool) -> str:
    """One staged value as an argument of format() (PostgreSQL) or printf() (SQLite),
    whose %s writes NULL as nothing. `safe`: text is made safe."""
    if kind == TEXT:
        if not safe:
            return column
        if postgres:
            return f"translate({column}, '{_PG_UNSAFE}', '{' ' * len(_PG_UNSAFE)}')"
        return f"{SQLITE_SAFE}({column})"
    if kind == YESNO:
        return f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN 'Yes' ELSE 'No' END"
    if kind == DATE and postgres:
        return f"to_char({column}, 'YYYY-MM-DD')"
    # Amounts (numeric(14,2), or the engine's text on SQLite), whole numbers, ISO dates.
    return column


MOST_ARGUMENTS = 90  # a function takes at most 100 arguments in PostgreSQL, 127 in SQLite


def _records_sql(plans, postgres: bool, end: str) -> str:
    """The IH, CR and ID rows of a staged row as one text, CRLF between them, `end` last.

    A format() call (printf() on SQLite) per row type, from a template of the
    mapping's constants. Making text safe costs a translation per value: the
    stage's `unsafe` (the row's text holds a character outside printable ASCII,
    or a |) keeps it to the rows that need it."""
    # (template, [(column, kind)]), at most MOST_ARGUMENTS columns each
    pieces: list[tuple[str, list[tuple[str, str]]]] = []
    for n, plan in enumerate(plans):
        template: list[str] = []
        columns: list[tuple[str, str]] = []
        for constant, column, kind in plan:
            if column is None:
                template.append(constant.replace("%", "%%"))
            else:
                if len(columns) == MOST_ARGUMENTS:
                    pieces.append(("|".join(template) + "|", columns))
                    template, columns = [], []
                template.append("%s")
                columns.append((column, kind))
        pieces.append(("|".join(template) + (NEWLINE if n < len(plans) - 1 else end), columns))
    function = "format" if postgres else "printf"

    def record(safe: bool) -> str:
        calls = []
        for template, columns in pieces:
            text = "'" + template.replace("'", "''") + "'"
            arguments = [_argument_sql(c, k, postgres, safe) for c, k in columns]
            calls.append(f"{function}({', '.join([text, *arguments])})")
        return " || ".join(calls)

    if not any(kind == TEXT for _, columns in pieces for _, kind in columns):
        return record(safe=False)
    return f"CASE WHEN unsafe THEN {record(safe=True)} ELSE {record(safe=False)} END"


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


def bif_write(
    *, out: BinaryIO, biller, mapping_rows, stage, invoice_count: int, total_amount
) -> None:
    """Write the BIF of the staged invoices (file order) to `out`.

    The database formats each invoice's IH, CR and ID rows (one SQL expression
    per column, from the mapping rows); Python writes the bytes."""
    postgres = connection.vendor == "postgresql"
    plans = [
        _plan(mapping_rows, record_type)
        for record_type in (
            RecordType.INVOICE_HEADER,
            RecordType.CUSTOMER_RECORD,
            RecordType.INVOICE_DETAIL,
        )
    ]
    header = bif_file_header(
        mapping_rows=mapping_rows,
        biller=biller,
        created=today_in_zone(time_zone=biller.time_zone),
        count=invoice_count,
        total=total_amount,
    )
    # PostgreSQL: one CSV field per invoice, "IH...CRLF CR...CRLF ID...CR": it holds
    # a CR, so COPY wraps it in the quote character (\x02, which no safe value holds)
    # and ends its row with LF. Dropping the quotes leaves the BIF.
    records = _records_sql(plans, postgres, "\r" if postgres else NEWLINE)
    out.write((header + NEWLINE).encode())
    if postgres:
        select = f"SELECT {records} FROM {TABLE} ORDER BY line"
        blocks = []
        with stage.cursor.cursor.copy(
            f"COPY ({select}) TO STDOUT (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
        ) as copy:
            for block in copy:
                blocks.append(block)
                if len(blocks) >= 2000:
                    out.write(b"".join(blocks).replace(b"\x02", b""))
                    blocks = []
        out.write(b"".join(blocks).replace(b"\x02", b""))
    else:
        connection.connection.create_function(SQLITE_SAFE, 1, _sqlite_safe, deterministic=True)
        cursor = stage.cursor.cursor
        cursor.execute(f"SELECT {records} FROM {TABLE} ORDER BY line")
        while batch := cursor.fetchmany(5000):
            out.write("".join([row[0] for row in batch]).encode())
