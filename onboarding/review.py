"""Mapping review: a biller's field mapping tried on one partner record before it
goes live, without writing anything to the hub's invoices or customers.

The record is pasted (a sample) or read live from the partner, or its sandbox:
whatever the biller's endpoint setting points at, through the biller's
connector. The answer is the record as received, what the mapping engine makes
of it, and the rows the hub's BIF writer writes for it (the writer itself, on a
staging table of one row, into a temporary file), every mapping error on its
mapping row. Every secret of the biller is redacted from all of it: from the
record before it is mapped, from the settings a mapping rule may read, and
from everything shown. A live record that maps without an error (for IMT, whose
mapping is its invoice file's, a pasted file record) is recorded as go-live
evidence (billers.services.go_live_evidence).
"""

import csv
import datetime
import io
import json
import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError

from billers.models import (
    Biller,
    FieldMapping,
    GoLiveEvidence,
    Invoice,
    MappingRule,
    RecordType,
)
from billers.services.go_live_evidence import go_live_evidence_record
from billers.services.mapping_requirements import biller_mapping_problems
from invoicefiles.services.bif import bif_write
from invoicefiles.services.processing import column_key
from invoicefiles.services.reading import PipeDialect
from invoicefiles.services.staging import Stage
from partners.connectors.base import Connector
from partners.connectors.errors import (
    Outcome,
    PartnerAuthError,
    PartnerError,
    PartnerNotConfigured,
    PartnerNotFound,
    PartnerNotSent,
    PartnerRejected,
    PartnerTimeout,
)
from partners.connectors.http import without_nul
from partners.connectors.registry import connector_class
from partners.mapping import MappedRecord, MappingError
from partners.selectors import biller_mapper
from partners.services.access import partner_access
from partners.storable import storable_problems

logger = logging.getLogger(__name__)

SAMPLE_MAX_CHARS = 100_000
RECORD_TYPES = [
    RecordType.FILE_HEADER,
    RecordType.INVOICE_HEADER,
    RecordType.CUSTOMER_RECORD,
    RecordType.INVOICE_DETAIL,
]


def partner_error_text(error: PartnerError, invoice_number: str) -> str:
    """What a failed lookup means, for a person."""
    if isinstance(error, PartnerNotFound):
        return f"The partner has no invoice {invoice_number!r}."
    if isinstance(error, PartnerNotConfigured):
        return f"Nothing was sent: {error.message}"
    if isinstance(error, PartnerAuthError):
        return f"The partner refused the biller's credentials ({error.message})."
    if isinstance(error, PartnerRejected):
        return f"The partner refused the request ({error.message})."
    if isinstance(error, PartnerNotSent):
        return f"The partner cannot be reached; nothing was sent ({error.message})."
    if isinstance(error, PartnerTimeout):
        return f"The partner did not answer in time ({error.message})."
    return f"The partner's answer cannot be used ({error.message})."


# -- the review ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    """One mapping row as the design documents show it, with what a review found."""

    mapping: FieldMapping
    source: str  # the partner field, or the rule
    value: str = ""  # the row's column in the BIF, after a review
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewGroup:
    record_type: str
    label: str
    rows: tuple[ReviewRow, ...]
    bif_line: str | None = None  # the BIF row of this record type, after a review

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.rows)


@dataclass(frozen=True)
class MappingReview:
    """The biller's mapping by record type and, when a record was given, the review of it."""

    biller: Biller
    groups: tuple[ReviewGroup, ...]
    source: str = ""  # "sample" or "live"; empty before a review
    problem: str = ""  # bad input or a failed partner call: nothing was mapped
    record: dict | None = None  # the partner's record as received, redacted
    exchange: dict | None = None  # the live call, redacted
    outcome: str = ""  # the live call's: success, rejected, not_sent or unknown
    values: tuple[tuple[str, str], ...] = ()  # IC field, value: Mapper.apply's result
    errors: tuple[MappingError, ...] = ()
    unplaced_errors: tuple[MappingError, ...] = ()  # errors of no mapping row shown
    bif_lines: tuple[str, ...] = ()  # FH, IH, CR, ID as the BIF writer wrote them
    notes: tuple[str, ...] = field(default=())
    # Required rows the mapping lacks (billers.services.mapping_requirements): errors
    # with or without a record reviewed.
    missing: tuple[MappingError, ...] = ()

    @property
    def record_json(self) -> str:
        return json.dumps(self.record, indent=2, ensure_ascii=False, default=str)

    @property
    def ran(self) -> bool:
        return bool(self.source)

    @property
    def mapped(self) -> bool:
        return self.ran and not self.problem

    @property
    def passed(self) -> bool:
        """A record that maps, is stored and written without an error, with nothing
        required missing: what the go-live checklist asks for (of a live record)."""
        return self.mapped and not (self.errors or self.missing)


class SampleProblem(ValueError):
    pass


def _source(row: FieldMapping) -> str:
    if row.rule == MappingRule.PARTNER_FIELD:
        label = row.partner_field_label
        if label and column_key(label) != column_key(row.partner_field):
            return f"{row.partner_field} ({label})"
        return row.partner_field
    if row.rule == MappingRule.CONSTANT:
        return f"constant “{row.rule_value}”"
    if row.rule == MappingRule.YEAR_OF:
        return f"year of {row.rule_value}"
    if row.rule == MappingRule.SETTING:
        return f"setting {row.rule_value}"
    return str(MappingRule(row.rule).label).lower() if row.rule else ""


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _parse_sample(text: str) -> tuple[dict, bool]:
    """The pasted record, and whether it came as a pipe-delimited file's lines."""
    text = text.strip()
    if not text:
        raise SampleProblem("The sample is empty.")
    if len(text) > SAMPLE_MAX_CHARS:
        raise SampleProblem(f"The sample is longer than {SAMPLE_MAX_CHARS} characters.")
    if text[0] in "{[":
        try:
            data = json.loads(text)
        except ValueError as e:
            raise SampleProblem(f"The sample is not valid JSON: {e}.") from None
        if isinstance(data, list):
            if len(data) != 1:
                raise SampleProblem(
                    f"A JSON array must hold exactly one record; this one holds {len(data)}."
                )
            data = data[0]
        if not isinstance(data, dict):
            raise SampleProblem("The JSON sample must be one record: an object {...}.")
        return data, False
    try:
        json.loads(text)
    except ValueError:
        pass  # not JSON: the lines of a file
    else:
        raise SampleProblem("The JSON sample must be one record: an object {...}.")
    try:
        rows = [
            row
            for row in csv.reader(io.StringIO(text, newline=""), PipeDialect)
            if row and not (len(row) == 1 and not row[0].strip())
        ]
    except csv.Error as e:
        raise SampleProblem(f"The pipe-delimited sample cannot be read: {e}.") from None
    if len(rows) != 2:
        raise SampleProblem(
            "A pipe-delimited sample is the header line and one data line; "
            f"this one has {len(rows)} line{'s' if len(rows) != 1 else ''}."
        )
    header, values = rows
    if len(values) != len(header):
        raise SampleProblem(
            f"The data line has {len(values)} columns; the header has {len(header)}."
        )
    keys = [column_key(name) for name in header]
    twice = sorted({name.strip() for name in header if keys.count(column_key(name)) > 1})
    if twice:
        raise SampleProblem(f"The header names the column {twice[0]!r} twice.")
    return dict(zip(header, values, strict=True)), True


def _file_record(record: dict, partner_fields) -> tuple[dict, list[str]]:
    """A file's row keyed by the mapping's partner fields, matched as the invoice
    file reader matches them (case, spaces and `_` aside); notes on the columns."""
    by_key = {column_key(name): value for name, value in record.items()}
    known = {column_key(name) for name in partner_fields}
    notes = []
    unknown = [name.strip() for name in record if column_key(name) not in known]
    if unknown:
        notes.append(f"Columns not in the field mapping, ignored: {', '.join(unknown)}.")
    missing = [name for name in partner_fields if column_key(name) not in by_key]
    if missing:
        notes.append(f"Mapped columns missing from the header: {', '.join(missing)}.")
    return {
        name: by_key[column_key(name)] for name in partner_fields if column_key(name) in by_key
    }, notes


def _bif_lines(biller: Biller, rows: list[FieldMapping], mapped: MappedRecord) -> list[str]:
    """The BIF of this one record, written by the BIF writer (FH, IH, CR, ID)."""
    stage = Stage(1)  # temporary tables of this connection: no hub table is touched
    try:
        # PostgreSQL text never holds NUL; the BIF writes a space for it anyway.
        stage.add([(1, without_nul(mapped.invoice), without_nul(mapped.customer))])
        count, total = stage.totals()
        out = io.BytesIO()
        bif_write(
            out=out,
            biller=biller,
            mapping_rows=rows,
            stage=stage,
            invoice_count=count,
            total_amount=total,
        )
        text = out.getvalue().decode("utf-8")
    finally:
        stage.close()
    return text.split("\r\n")[:-1]


def _groups(rows: list[FieldMapping], bif_lines=(), errors=()) -> tuple[ReviewGroup, ...]:
    messages: dict[int, list[str]] = {}
    for error in errors:
        messages.setdefault(error.file_spec_id, []).append(error.message)
    lines = dict(zip(RECORD_TYPES, bif_lines, strict=False))
    present: list[str] = [rt for rt in RECORD_TYPES if any(r.record_type == rt for r in rows)]
    present += sorted({r.record_type for r in rows} - set(RECORD_TYPES))
    groups = []
    for record_type in present:
        mine = sorted(
            (r for r in rows if r.record_type == record_type), key=lambda r: r.file_spec_id
        )
        line = lines.get(record_type)
        columns = line.split("|") if line else []
        groups.append(
            ReviewGroup(
                record_type=record_type,
                label=RecordType(record_type).label if record_type in RecordType.values else "",
                rows=tuple(
                    ReviewRow(
                        mapping=row,
                        source=_source(row),
                        value=columns[n] if n < len(columns) else "",
                        errors=tuple(messages.get(row.file_spec_id, ())),
                    )
                    for n, row in enumerate(mine)
                ),
                bif_line=line,
            )
        )
    return tuple(groups)


def mapping_review(
    *,
    biller: Biller,
    sample: str = "",
    invoice_number: str = "",
    user: AbstractBaseUser | None = None,
) -> MappingReview:
    """The biller's mapping, and when a sample or an invoice number is given the
    review of that record. Writes nothing but go-live evidence, when a live record
    maps without an error (by `user`)."""
    review = _review(biller, sample, invoice_number)
    if review.passed and (review.source == "live" or not _on_demand(biller)):
        go_live_evidence_record(
            biller=biller,
            kind=GoLiveEvidence.Kind.MAPPING_REVIEW,
            user=user,
            detail=f"{review.source} record {invoice_number}".rstrip(),
        )
    return review


def _on_demand(biller: Biller) -> bool:
    """Whether the biller's mapping maps the partner's live records. IMT's maps its
    invoice file (a live IMT record is a balance answer): there a pasted file record
    that passes is the evidence, and the connection test the live one."""
    try:
        return connector_class(biller.partner).supports_invoice_on_demand
    except LookupError:
        return True


def _review(biller: Biller, sample: str, invoice_number: str) -> MappingReview:
    """The review itself, which never writes: a bad sample or a failed partner call
    is `problem`, a bad value a mapping error on its row."""
    rows = list(biller.field_mappings.all())
    missing = tuple(
        MappingError(required.file_spec_id, required.ic_field, message)
        for required, message in biller_mapping_problems(biller=biller)
    )
    if not sample and not invoice_number:
        return MappingReview(biller=biller, groups=_groups(rows), missing=missing)
    source = "live" if invoice_number else "sample"
    empty = MappingReview(biller=biller, groups=_groups(rows), source=source, missing=missing)
    try:
        access = partner_access(biller=biller)
    except LookupError:
        return replace(empty, problem=f"No connector serves the partner {biller.partner!r}.")
    redact = access.redactor
    mapper = biller_mapper(biller=biller, settings=access.shown_settings)
    notes: list[str] = []
    exchange, outcome = None, ""

    if source == "sample":
        try:
            record, from_file = _parse_sample(sample)
        except SampleProblem as e:
            return replace(empty, problem=redact.text(str(e)))
        record = redact.data(record)
        mapper_input = record
        if from_file:
            mapper_input, notes = _file_record(record, mapper.partner_fields)
    else:
        connector = access.connector
        try:
            found = connector.fetch_invoice(invoice_number)
        except PartnerError as e:
            logger.info("Mapping review of biller %s: %s", biller.bid, e.message)
            return replace(
                empty,
                problem=redact.text(partner_error_text(e, invoice_number)),
                exchange=access.redacted_exchange(e.exchange),
                outcome=e.outcome,
            )
        exchange, outcome = access.redacted_exchange(found.exchange), Outcome.SUCCESS
        record = redact.data(found.record)
        mapper_input = record
        notes += _live_notes(biller, connector, found, invoice_number)

    mapped = mapper.apply(mapper_input)
    if mapped.ok:  # it maps: can the hub store it?
        file_spec_ids = {step.ic_field: step.file_spec_id for step in mapper.steps}
        mapped.errors += storable_problems(mapped, file_spec_ids)
    try:
        bif_lines = _bif_lines(biller, rows, mapped)
    except (DatabaseError, OverflowError, ValueError) as e:
        logger.warning("Mapping review of biller %s: no BIF rows: %r", biller.bid, e, exc_info=True)
        bif_lines = []
        notes.append("The BIF writer could not write this record's rows.")
    shown_ids = {row.file_spec_id for row in rows}
    errors = tuple(
        MappingError(e.file_spec_id, e.ic_field, redact.text(e.message)) for e in mapped.errors
    )
    return MappingReview(
        biller=biller,
        groups=_groups(rows, [redact.text(line) for line in bif_lines], errors),
        source=source,
        record=record,
        exchange=exchange,
        outcome=outcome,
        values=tuple((name, redact.text(_shown(value))) for name, value in mapped.values.items()),
        errors=errors,
        unplaced_errors=tuple(e for e in errors if e.file_spec_id not in shown_ids),
        bif_lines=tuple(redact.text(line) for line in bif_lines),
        notes=tuple(redact.text(note) for note in notes),
        missing=missing,
    )


def _live_notes(biller: Biller, connector: Connector, found, invoice_number: str) -> list[str]:
    notes = []
    if Invoice.objects.filter(biller=biller, invoice_number=invoice_number).exists():
        notes.append(
            "The hub has this invoice already: an RTDR lookup would refresh its balance, "
            "not create it."
        )
    try:
        balance = connector.balance_update(found)
    except PartnerError as e:
        notes.append(f"The partner's balance rule cannot read this record: {e.message}.")
    else:
        if balance is not None:
            notes.append(
                f"A balance refresh takes {connector.partner}'s own rule, not the mapping: "
                f"balance due {_shown(balance.balance_due) or '-'}, "
                f"past due {_shown(balance.past_due) or '-'}."
            )
    return notes
