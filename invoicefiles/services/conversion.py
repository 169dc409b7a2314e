"""A biller's field mapping turned into SQL that converts a file's raw rows in bulk.

The mapping engine (partners.mapping) converts one record at a time in Python,
which costs microseconds per value; a file has millions of values. This module
reads the same compiled mapping (its steps) and generates one
`INSERT INTO stage ... SELECT ... FROM raw WHERE <every value is good>` for the
database. The SQL accepts only values whose conversion it is certain of, in
their common forms (`50.00`, `2026-10-01`, `164`, `Yes`, text within its
limits), and produces exactly the engine's value for them. A row with any other
value (`1,234.5`, `10/01/2026`, an empty required field, a bad date) is left
out, and the caller runs the engine itself on it: the engine decides whether it
is good and words the errors. So the SQL is a fast path, never a second
judge: a row is accepted by it only when the engine would accept it with the
same values.

A mapping the SQL cannot express (a pattern other than Numeric, a year of a
non-date, two rows filling one field, a constant that does not convert) gives
None: every row then goes through the engine.

The SQL strips spaces only (str.strip() strips 29 kinds of whitespace; testing
for 29 characters per value costs the database more than the rest): a row
holding any other whitespace, or a control character (which the engine refuses
in a text value of a file), goes to the engine. It also marks the rows whose
text the BIF must make safe (`unsafe`: a character outside printable ASCII, or
a |), so that the BIF translates only those.

Raw rows: table `raw` with `line`, `n` (the row's number of columns) and `f1`
.. `fN` (text, N = the header's width), on SQLite also `odd` and `unsafe`
(found by Python while loading); the stage columns are those of
invoicefiles.services.staging.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from billers.models import MappingRule, PartnerFormat
from invoicefiles.services.columns import STAGE_COLUMN
from partners.mapping import DATE, INT, MONEY, TEXT, YESNO, ValueProblem
from partners.sentinels import VARIES

# What str.strip() strips besides the space: the other characters for which
# str.isspace() holds. A row holding one of them anywhere is left to the engine,
# so that the SQL strips spaces only (much cheaper than a set of 29 characters).
OTHER_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# The control characters (C0 but NUL, DEL, C1), as ranges of a regular expression's
# class: a row holding one goes to the engine too, which refuses it in a text field.
CONTROL_RANGES = "\x01-\x1f\x7f-\x9f"
# What leaves a row to the engine: whitespace other than the space, or a control.
LEFT_TO_ENGINE = OTHER_WHITESPACE + CONTROL_RANGES
# Printable ASCII but the |, as a regular expression's class: a text value with
# nothing else needs no change in the BIF.
PRINTABLE = " -{}~"
NOT_PRINTABLE_RE = re.compile(f"[^{PRINTABLE}]")
YES, NO = ("yes", "y", "true", "1"), ("no", "n", "false", "0")
_RECORD_INDEPENDENT = (
    MappingRule.CONSTANT,
    MappingRule.SETTING,
    MappingRule.TODAY,
    MappingRule.GENERATED,
)


class Unsupported(Exception):
    """The mapping has a step the SQL does not express: the engine does every row."""


def literal(text: str) -> str:
    if "\x00" in text:
        raise Unsupported("a NUL character")
    return "'" + text.replace("'", "''") + "'"


class Dialect:
    """SQL for one database. `v` is always a stripped, non-empty text expression."""

    def __init__(self, vendor: str):
        self.postgres = vendor == "postgresql"

    def strip(self, column: str) -> str:
        """Spaces off both ends (the row holds no other whitespace: see `plain`)."""
        return f"{'btrim' if self.postgres else 'trim'}({column})"

    def length(self, v: str) -> str:
        return f"{'char_length' if self.postgres else 'length'}({v})"

    def digits(self, v: str, most: int | None = None) -> str:
        if self.postgres:
            return f"{v} ~ '^[0-9]{{1,{most}}}$'" if most else f"{v} ~ '^[0-9]+$'"
        check = f"{v} NOT GLOB '*[^0-9]*'"
        return f"({check} AND length({v}) <= {most})" if most else check

    def money(self, v: str) -> tuple[str, str]:
        """Plain amounts with cents, no leading zero: their text is the engine's value."""
        if self.postgres:
            return f"{v} ~ '^(0|[1-9][0-9]{{0,9}})[.][0-9]{{2}}$'", f"CAST({v} AS numeric(14,2))"
        check = (
            f"({v} GLOB '[0-9]*.[0-9][0-9]' AND length({v}) <= 13 "
            f"AND substr({v}, 1, length({v}) - 3) NOT GLOB '*[^0-9]*' "
            f"AND {v} NOT GLOB '0[0-9]*')"
        )
        return check, v  # stored as text on SQLite, as the engine's Decimal is

    def date(self, v: str) -> tuple[str, str]:
        """YYYY-MM-DD of a real day, years 0001-9999."""
        if self.postgres:
            check = (
                f"(CASE WHEN {v} ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' "
                f"AND {v} >= '0001' THEN substr({v}, 9, 2) <= '28' OR "
                f"extract(day FROM make_date(CAST(substr({v}, 1, 4) AS integer), "
                f"CAST(substr({v}, 6, 2) AS integer), 1) + interval '1 month - 1 day') "
                f">= CAST(substr({v}, 9, 2) AS integer) ELSE false END)"
            )
            return check, f"CAST({v} AS date)"
        check = (
            f"({v} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND {v} >= '0001' "
            f"AND date({v}, '+0 days') IS {v})"
        )
        return check, v  # ISO text on SQLite, as the engine's date is stored

    def year(self, v: str) -> str:
        return f"CAST(substr({v}, 1, 4) AS {'integer' if self.postgres else 'INTEGER'})"

    def integer(self, v: str) -> str:
        return f"CAST({v} AS {'bigint' if self.postgres else 'INTEGER'})"

    def value(self, value) -> str:
        """A converted value (constant, setting, today) as an SQL literal."""
        if isinstance(value, bool):
            return ("TRUE" if value else "FALSE") if self.postgres else str(int(value))
        if isinstance(value, int):
            return str(value)
        if isinstance(value, Decimal):
            return f"CAST('{value}' AS numeric(14,2))" if self.postgres else f"'{value}'"
        if isinstance(value, datetime.date):
            return f"DATE '{value.isoformat()}'" if self.postgres else f"'{value.isoformat()}'"
        if isinstance(value, str):
            return literal(value)
        raise Unsupported(f"a {type(value).__name__} value")


@dataclass
class _Field:
    check: str  # true when the value is good (empty and optional counts as good)
    value: str  # the converted value, NULL when empty
    date: str | None = None  # the stripped text of a good date, for year_of


def _partner_field(step, v: str, sql: Dialect, type_ids) -> _Field:
    kind, checks, limit, date = step.kind, [], step.char_limit, None
    if kind == TEXT:
        if step.partner_format not in (PartnerFormat.NONE, PartnerFormat.TEXT):
            if step.partner_format != PartnerFormat.NUMERIC:
                raise Unsupported(f"partner format {step.partner_format}")
            checks.append(sql.digits(v))
        value = v
        if step.prefix:
            p = literal(step.prefix)
            n = len(step.prefix)
            value = f"(CASE WHEN substr({v}, 1, {n}) = {p} THEN {v} ELSE {p} || {v} END)"
        checks += [
            f"{sql.length(value)} <= {m}" for m in (limit, step.model_limit) if m is not None
        ]
    else:
        if limit is not None:
            checks.append(f"{sql.length(v)} <= {limit}")
        if kind == MONEY:
            check, value = sql.money(v)
        elif kind == DATE:
            check, value = sql.date(v)
            date = f"(CASE WHEN {v} = '' THEN NULL ELSE {v} END)"
        elif kind == INT:
            check, value = sql.digits(v, 18), sql.integer(v)
            if step.model_field == "invoice_type_id":
                allowed = ", ".join(str(int(t)) for t in sorted(type_ids)) or "NULL"
                check = f"({check} AND {value} IN ({allowed}))"
        elif kind == YESNO:
            lower = f"lower({v})"
            yes, no = ", ".join(map(literal, YES)), ", ".join(map(literal, NO))
            check = f"{lower} IN ({yes}, {no})"
            true, false = sql.value(True), sql.value(False)
            value = f"(CASE WHEN {lower} IN ({yes}) THEN {true} ELSE {false} END)"
        else:
            raise Unsupported(f"kind {kind}")
        checks.append(check)
    good = " AND ".join(checks) if checks else "TRUE"
    empty = "FALSE" if step.required else "TRUE"
    return _Field(
        check=f"(CASE WHEN {v} = '' THEN {empty} ELSE {good} END)",
        value=f"(CASE WHEN {v} = '' THEN NULL ELSE {value} END)",
        date=date,
    )


@dataclass(frozen=True)
class Conversion:
    """`sql` inserts the good raw rows into the stage; `columns` it fills."""

    sql: str
    columns: list[str]


def conversion_sql(
    *, mapper, positions: dict[str, int], width: int, type_ids, vendor: str, raw: str, stage: str
) -> Conversion | None:
    """The INSERT ... SELECT of the rows the SQL can convert, or None (see the module)."""
    sql = Dialect(vendor)
    try:
        return _conversion(mapper, positions, width, type_ids, sql, raw, stage, STAGE_COLUMN)
    except Unsupported:
        return None


def _conversion(mapper, positions, width, type_ids, sql, raw, stage, stage_column):
    stripped: dict[int, str] = {}  # raw column index -> alias of its stripped text
    checks: list[str] = [f"r.n = {width}"]
    values: dict[str, str] = {}  # stage column -> expression
    # IC field -> stripped text of its good date, or a literal date
    dates: dict[str, str | datetime.date] = {}
    unsafe_constant = False  # a constant text the BIF must make safe, in every row
    for step in mapper.steps:
        column = stage_column[(step.target, step.model_field)]
        if column in values:
            raise Unsupported("two rows fill one field")
        if step.fixed is not VARIES:
            value = step.fixed
        elif step.rule in _RECORD_INDEPENDENT:
            value = _record_independent(step)
        elif step.rule == MappingRule.PARTNER_FIELD:
            index = positions.get(step.partner_field)
            if index is None:  # an optional column the file does not have
                if step.required:
                    raise Unsupported("a required column is missing")
                continue
            if index not in stripped:
                stripped[index] = f"v{index + 1}"
            field = _partner_field(step, f"r.{stripped[index]}", sql, type_ids)
            checks.append(field.check)
            values[column] = field.value
            if field.date is not None:
                dates[step.ic_field] = field.date
            continue
        elif step.rule == MappingRule.YEAR_OF:
            if step.kind != INT or step.char_limit is not None:
                raise Unsupported("a year into a field that is not a number")
            source = dates.get(step.rule_value)
            if source is None:
                if step.required:
                    raise Unsupported("a required year of no date")
                continue
            if isinstance(source, datetime.date):
                value = source.year
            else:
                year = f"(CASE WHEN {source} IS NULL THEN NULL ELSE {sql.year(source)} END)"
                if step.required:
                    checks.append(f"{source} IS NOT NULL")
                values[column] = year
                continue
        else:
            raise Unsupported(f"rule {step.rule}")
        if value is None:
            continue
        if step.model_field == "invoice_type_id" and value not in type_ids:
            raise Unsupported("an invoice type the biller does not have")
        if isinstance(value, datetime.date):
            dates[step.ic_field] = value
        if isinstance(value, str) and NOT_PRINTABLE_RE.search(value):
            unsafe_constant = True
        values[column] = sql.value(value)
    return _statement(
        mapper, sql, raw, stage, stage_column, stripped, checks, values, unsafe_constant
    )


def _statement(mapper, sql, raw, stage, stage_column, stripped, checks, values, unsafe_constant):
    """The one INSERT ... SELECT of the conversion, from its columns' expressions
    (`values`) and its rows' checks."""
    balance = stage_column[("invoice", "balance_due")]
    total = stage_column[("invoice", "total_amount_due")]
    if total in values:  # an unmapped or empty BalanceDue matches the total
        values[balance] = (
            f"COALESCE({values[balance]}, {values[total]})" if balance in values else values[total]
        )
    # Whether a row holds whitespace other than the space (left to the engine), or
    # a character the BIF must make safe: one test over the row's text.
    if any(NOT_PRINTABLE_RE.search(step.prefix) for step in mapper.steps):
        unsafe_constant = True
    inner = ["line", "n"]
    if sql.postgres:
        joined = f"concat({', '.join(f'f{i + 1}' for i in stripped)})" if stripped else "''"
        inner += [f"{joined} AS j", f"{joined} ~ '[^{PRINTABLE}]' AS unsafe"]
        checks.insert(1, f"(NOT r.unsafe OR r.j !~ '[{LEFT_TO_ENGINE}]')")
    else:  # found by Python while loading the rows (staging)
        inner += ["odd", "unsafe"]
        checks.insert(1, "r.odd = 0")
    inner += [f"{sql.strip(f'f{index + 1}')} AS {alias}" for index, alias in stripped.items()]
    values["unsafe"] = "TRUE" if unsafe_constant else "r.unsafe"
    columns = list(values)
    # Each column is stripped once per row, not once per use.
    source = f"SELECT {', '.join(inner)} FROM {raw}"
    insert = f"INSERT INTO {stage} (line, {', '.join(columns)})"
    select = f"SELECT r.line, {', '.join(values[c] for c in columns)}"
    where = f"WHERE {' AND '.join(checks)}"
    if sql.postgres:
        statement = f"{insert} {select} FROM ({source} OFFSET 0) r {where}"
    else:
        # (INSERT first: Python's sqlite3 counts the rows of a statement that starts so)
        statement = f"{insert} WITH r AS MATERIALIZED ({source}) {select} FROM r {where}"
    return Conversion(sql=statement, columns=columns)


def _record_independent(step):
    """The engine's value of a constant-like step; Unsupported when it is an error."""
    raw = step.get({}, {})
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if step.required:
            raise Unsupported("a required constant is empty")
        return None
    try:
        return step.convert(raw)
    except ValueProblem:
        raise Unsupported("a constant that does not convert") from None
