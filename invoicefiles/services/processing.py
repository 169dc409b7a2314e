"""An invoice file turned into customers, invoices and a BIF.

Flow: claim the file row; find the encoding; read the header and find every
column of the biller's field mapping (partner field names, any order, matched
without regard to case, surrounding spaces, or `_` versus space); put every row
as read into the raw staging table (PostgreSQL: the file's bytes through COPY
when the file is plain); convert the rows in SQL generated from the mapping
where the SQL is certain of the values (conversion), and every other row with
the mapping engine, which reports bad rows by line, field and reason; drop rows
superseded by a later row of the same invoice; write the BIF; then, in one
transaction, upsert customers by account number, upsert invoices by invoice
number, and mark the file done.

A file-level problem (binary, empty, unreadable, a missing required column, no
good row at all) fails the file and changes nothing. A file with some bad rows
applies its good rows and lists the bad ones.
"""

import datetime
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billers.models import Customer, Invoice, InvoiceType, MappingRule, RefreshSource
from billers.selectors import biller_setting_values
from invoicefiles.models import InvoiceFile, InvoiceFileError, InvoiceFileStatus
from invoicefiles.services.bif import bif_write
from invoicefiles.services.columns import (
    CUSTOMER_COLUMNS,
    INVOICE_COLUMNS,
    RAW,
    STAGE_COLUMN,
    TABLE,
)
from invoicefiles.services.conversion import conversion_sql
from invoicefiles.services.reading import (
    InvoiceFileRejected,
    detect_encoding,
    plain_offset,
    read_rows,
)
from invoicefiles.services.staging import UNREADABLE, Stage
from invoicefiles.services.storage import local_copy, scratch_dir, stored_delete, stored_save
from partners.selectors import biller_mapper

logger = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 1000  # errors listed per file; `rejected` counts them all


def column_key(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


@dataclass
class Outcome:
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reject(self, line: int, field_name: str, message: str, *, count: bool = True) -> None:
        self.rejected += count
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append((line, field_name, message[:500]))


def invoice_file_claim(*, file_id) -> InvoiceFile | None:
    """Take a queued file (or one whose worker died) for processing; None if another has it."""
    stale = timezone.now() - datetime.timedelta(seconds=settings.ICI_INVOICE_FILE_TASK_TIMEOUT)
    claimed = InvoiceFile.objects.filter(
        Q(status=InvoiceFileStatus.QUEUED)
        | Q(status=InvoiceFileStatus.PROCESSING, started_at__lt=stale),
        pk=file_id,
    ).update(status=InvoiceFileStatus.PROCESSING, started_at=timezone.now())
    return InvoiceFile.objects.select_related("biller").get(pk=file_id) if claimed else None


def invoice_file_process(*, file_id, progress=None, exact=False) -> InvoiceFile | None:
    """Process one file (the task and the command call this). `progress(rows_read)`.

    `exact`: convert every row with the mapping engine, none in SQL (slower; the
    tests compare both ways)."""
    invoice_file = invoice_file_claim(file_id=file_id)
    if invoice_file is None:
        return None
    outcome = Outcome()
    try:
        _process(invoice_file, outcome, progress, exact=exact)
    except InvoiceFileRejected as e:
        _finish_failed(invoice_file, outcome, code=e.code, message=e.message)
    except Exception:
        logger.exception("Invoice file %s: processing failed", invoice_file.pk)
        _finish_failed(
            invoice_file,
            outcome,
            code="processing_error",
            message="The hub could not process this file; nothing of it was applied. "
            "Send it again, or ask support.",
        )
    invoice_file.refresh_from_db()
    return invoice_file


def invoice_file_interrupted(*, file_id) -> None:
    """The process working on the file was stopped (Ctrl-C on the import command).

    Nothing of the file was applied (it is applied in one transaction, rolled back
    by the interruption): it is marked failed, so that sending it again processes
    it at once instead of waiting for the sweep to find it stale."""
    invoice_file = InvoiceFile.objects.filter(
        pk=file_id, status=InvoiceFileStatus.PROCESSING
    ).first()
    if invoice_file is not None:
        _finish_failed(
            invoice_file,
            Outcome(),
            code="interrupted",
            message="The import was interrupted; nothing of this file was applied. Send it again.",
        )


def _finish_failed(invoice_file: InvoiceFile, outcome: Outcome, *, code: str, message: str):
    if invoice_file.bif_path:
        stored_delete(invoice_file.bif_path)
    with transaction.atomic():
        InvoiceFileError.objects.filter(invoice_file=invoice_file).delete()
        _save_errors(invoice_file, outcome)
        InvoiceFile.objects.filter(pk=invoice_file.pk).update(
            status=InvoiceFileStatus.FAILED,
            error_code=code,
            error_message=message[:1000],
            rows=outcome.rows,
            accepted=0,
            rejected=outcome.rejected,
            warnings=outcome.warnings,
            bif_path="",
            invoice_count=0,
            total_amount=None,
            finished_at=timezone.now(),
        )


def _save_errors(invoice_file: InvoiceFile, outcome: Outcome) -> None:
    InvoiceFileError.objects.bulk_create(
        [
            InvoiceFileError(invoice_file=invoice_file, line=line, field=name, message=message)
            for line, name, message in outcome.errors
        ],
        batch_size=200,
    )


def _columns(header: list[str], mapper) -> tuple[list[tuple[str, int]], list[str]]:
    """(partner field, column index) for every mapped field present; warnings."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = column_key(name)
        if key in positions:
            raise InvoiceFileRejected(
                f"The header names the column {name.strip()!r} twice.",
                code="duplicate_column",
                extra={"column": name.strip()},
            )
        positions[key] = index
    missing = [
        name for name in sorted(mapper.required_partner_fields) if column_key(name) not in positions
    ]
    if missing:
        raise InvoiceFileRejected(
            f"The header lacks the required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}.",
            code="missing_column",
            extra={"columns": missing},
        )
    found = [
        (name, positions[column_key(name)])
        for name in mapper.partner_fields
        if column_key(name) in positions
    ]
    known = {column_key(name) for name in mapper.partner_fields}
    unknown = [name.strip() for name in header if column_key(name) not in known]
    warnings = []
    if unknown:
        warnings.append(f"Columns not in the field mapping, ignored: {', '.join(unknown)}.")
    return found, warnings


def _process(invoice_file: InvoiceFile, outcome: Outcome, progress, *, exact: bool) -> None:
    # Read from a local file: the stored one, or a copy from the object store.
    with local_copy(invoice_file.path) as path:
        _process_local(invoice_file, path, outcome, progress, exact=exact)


def _process_local(
    invoice_file: InvoiceFile, path: Path, outcome: Outcome, progress, *, exact: bool
) -> None:
    biller = invoice_file.biller
    encoding = detect_encoding(path)
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(encoding=encoding.label)
    if encoding.fallback:
        outcome.warnings.append("The file is not UTF-8: it was read as Windows-1252.")

    mapper = biller_mapper(
        biller=biller, settings=biller_setting_values(biller=biller), for_files=True
    )
    rows = list(biller.field_mappings.all())
    column_of = {
        row.file_spec_id: row.partner_field
        for row in rows
        if row.rule == MappingRule.PARTNER_FIELD and row.partner_field
    }
    type_ids = set(InvoiceType.objects.filter(biller=biller).values_list("type_id", flat=True))

    reader = read_rows(path, encoding)
    header = next(reader, None)
    if header is not None and header.too_long:
        raise InvoiceFileRejected(
            f"The first row, which must name the columns, is longer than "
            f"{settings.ICI_INVOICE_FILE_MAX_LINE_BYTES} bytes.",
            code="line_too_long",
            extra={"max_line_bytes": settings.ICI_INVOICE_FILE_MAX_LINE_BYTES},
        )
    if header is None or header.fields is None:
        raise InvoiceFileRejected(
            "The first row must name the columns, and it cannot be read.", code="bad_header"
        )
    columns, warnings = _columns(header.fields, mapper)
    outcome.warnings.extend(warnings)
    width = len(header.fields)

    stage = Stage(width)
    try:
        # The rows into the raw table: the file's bytes straight through COPY when
        # PostgreSQL reads them as we would, else row by row.
        offset = plain_offset(path, encoding) if stage.postgres and header.line == 1 else None
        if offset is None or width < 2 or not stage.copy_file(path, offset, progress):
            stage.load(reader, progress)
        outcome.rows = stage.rows
        # Converted in SQL where the SQL is certain; the mapping engine does the rest.
        if not exact:
            stage.convert(
                conversion_sql(
                    mapper=mapper,
                    positions=dict(columns),
                    width=width,
                    type_ids=type_ids,
                    vendor=connection.vendor,
                    raw=RAW,
                    stage=TABLE,
                )
            )
        for page in stage.leftovers():
            stage.add(_convert_rows(page, outcome, mapper, columns, width, column_of, type_ids))
        stage.finish()
        if stage.count == 0:
            raise InvoiceFileRejected(
                "No row of the file is good: nothing was applied."
                if outcome.rows
                else "The file has a header but no rows.",
                code="no_valid_rows" if outcome.rows else "no_rows",
            )
        _apply(invoice_file, outcome, stage, mapper=mapper, mapping_rows=rows)
    finally:
        stage.close()


def _apply(
    invoice_file: InvoiceFile, outcome: Outcome, stage: Stage, *, mapper, mapping_rows: list
) -> None:
    """The staged rows' last steps: drop the superseded, write the BIF, then merge
    into the hub's tables and mark the file done in one transaction."""
    biller = invoice_file.biller
    outcome.accepted = stage.count
    superseded = stage.drop_superseded()
    if superseded:
        outcome.warnings.append(
            f"{superseded} row{'s' if superseded > 1 else ''} repeated the invoice number "
            "of a later row; the later row was applied."
        )
    count, total = stage.totals()
    _store_bif(
        invoice_file,
        lambda out: bif_write(
            out=out,
            biller=biller,
            mapping_rows=mapping_rows,
            stage=stage,
            invoice_count=count,
            total_amount=total,
        ),
    )
    with transaction.atomic():
        _merge(biller, mapper)
        _save_errors(invoice_file, outcome)
        InvoiceFile.objects.filter(pk=invoice_file.pk).update(
            status=InvoiceFileStatus.DONE,
            rows=outcome.rows,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            warnings=outcome.warnings,
            invoice_count=count,
            total_amount=total,
            error_code="",
            error_message="",
            finished_at=timezone.now(),
        )


def _convert_rows(page, outcome, mapper, columns, width, column_of, type_ids) -> list:
    """Raw rows (line, n, fields) through the mapping engine: the good ones, the errors."""
    apply, good = mapper.apply, []
    for line, n, fields in page:
        if n == UNREADABLE:
            outcome.reject(line, "", fields[0])
            continue
        if n != width:
            outcome.reject(line, "", f"the row has {n} columns; the header has {width}")
            continue
        mapped = apply({name: fields[index] for name, index in columns})
        if mapped.errors:
            for k, error in enumerate(mapped.errors):
                name = column_of.get(error.file_spec_id, error.ic_field)
                message = f"{error.message} (FileSpecID {error.file_spec_id})"
                outcome.reject(line, name, message, count=k == 0)
            continue
        type_id = mapped.invoice.get("invoice_type_id")
        if type_id is not None and type_id not in type_ids:
            outcome.reject(
                line, "InvoiceTypeID", f"{type_id} is not an invoice type of this biller"
            )
            continue
        good.append((line, mapped.invoice, mapped.customer))
    return good


def _merge(biller, mapper) -> None:
    """Customers by account number, then invoices by invoice number: one statement each."""
    postgres = connection.vendor == "postgresql"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    mapped = {(step.target, step.model_field) for step in mapper.steps}
    mapped.add(("invoice", "balance_due"))  # the engine fills it from the total
    customer, invoice = Customer._meta.db_table, Invoice._meta.db_table
    invoice_type = InvoiceType._meta.db_table

    def value(column, model, name):
        model_field = model._meta.get_field(name)
        expression = f"s.{column}"
        if not model_field.null and model_field.get_internal_type() in ("CharField", "TextField"):
            # the model's default (record type N) or empty text
            default = model_field.default if isinstance(model_field.default, str) else ""
            expression = f"COALESCE(s.{column}, '{default}')"
        if postgres and model_field.get_internal_type() == "UUIDField":
            expression = f"CAST({expression} AS uuid)"
        return expression

    customer_fields = [(c, f, k) for c, f, k in CUSTOMER_COLUMNS]
    names = ["biller_id"] + [f for _, f, _ in customer_fields] + ["created_at", "updated_at"]
    values = ["%s"] + [value(c, Customer, f) for c, f, k in customer_fields] + ["%s", "%s"]
    updates = [f"{f} = excluded.{f}" for _, f, _ in customer_fields if ("customer", f) in mapped]
    updates.append("updated_at = excluded.updated_at")
    customer_sql = (
        f"INSERT INTO {customer} ({', '.join(names)}) SELECT {', '.join(values)} "
        f"FROM {TABLE} s WHERE NOT EXISTS (SELECT 1 FROM {TABLE} t "
        f"WHERE t.c_account_number = s.c_account_number AND t.line > s.line) "
        f"ON CONFLICT (biller_id, account_number) DO UPDATE SET {', '.join(updates)}"
    )

    invoice_fields = [(c, f, k) for c, f, k in INVOICE_COLUMNS if f != "invoice_type_id"]
    names = (
        ["biller_id", "customer_id", "invoice_type_id"]
        + [f for _, f, _ in invoice_fields]
        + ["refreshed_at", "refreshed_via", "created_at", "updated_at"]
    )
    values = (
        ["%s", "c.id", "it.id"]
        + [value(c, Invoice, f) for c, f, k in invoice_fields]
        + ["%s", "%s", "%s", "%s"]
    )
    updates = [
        f"{f} = excluded.{f}"
        for _, f, _ in invoice_fields
        if ("invoice", f) in mapped and f != "invoice_number"
    ]
    if ("invoice", "invoice_type_id") in mapped:
        updates.append("invoice_type_id = excluded.invoice_type_id")
    updates += [
        "customer_id = excluded.customer_id",
        "refreshed_at = excluded.refreshed_at",
        "refreshed_via = excluded.refreshed_via",
        "updated_at = excluded.updated_at",
    ]
    type_column = STAGE_COLUMN[("invoice", "invoice_type_id")]
    invoice_sql = (
        f"INSERT INTO {invoice} ({', '.join(names)}) SELECT {', '.join(values)} "
        f"FROM {TABLE} s JOIN {customer} c "
        f"ON c.biller_id = %s AND c.account_number = s.c_account_number "
        f"LEFT JOIN {invoice_type} it ON it.biller_id = %s AND it.type_id = s.{type_column} "
        f"WHERE s.line > 0 "
        f"ON CONFLICT (biller_id, invoice_number) DO UPDATE SET {', '.join(updates)}"
    )
    with connection.cursor() as cursor:
        if postgres:  # this transaction only: hash joins in memory, not spilled to disk
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(customer_sql, [biller.pk, now, now])
        if postgres:
            # The customers just written change the table's size by up to the file's
            # rows: fresh statistics let the invoices join them by hash, not by
            # an index probe per customer.
            cursor.execute(f"ANALYZE {customer}")
        cursor.execute(
            invoice_sql, [biller.pk, now, RefreshSource.FILE, now, now, biller.pk, biller.pk]
        )


def _store_bif(invoice_file: InvoiceFile, write) -> None:
    """The BIF written by `write(out)` to a local scratch file, then stored beside
    the upload (`<bid>/<file id>.bif`). The row names it before it is stored, so
    that a failure removes it; one left by an earlier try (its worker died) is
    replaced."""
    name = str(Path(invoice_file.path).with_suffix(".bif"))
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(bif_path=name)
    invoice_file.bif_path = name
    fd, temp = tempfile.mkstemp(
        dir=scratch_dir(str(Path(name).parent)), prefix="bif-", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        stored_delete(name)
        stored = stored_save(name, temp)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    if stored != name:  # the storage chose another name: the row follows it
        InvoiceFile.objects.filter(pk=invoice_file.pk).update(bif_path=stored)
        invoice_file.bif_path = stored


def remove_stored(invoice_file: InvoiceFile) -> None:
    for name in (invoice_file.path, invoice_file.bif_path):
        stored_delete(name)
