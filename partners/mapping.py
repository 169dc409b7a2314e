"""The mapping engine: a biller's field mapping applied to one partner record.

Rows are data (billers.FieldMapping). Each row is compiled once into a small
function, so a file of a million records pays the row interpretation once. A
record comes out as the Invoice Header and Customer Record fields of the hub's
models, plus a list of errors, each naming the FileSpecID, the IC field and
what is wrong with the value. A record with any error is not to be written.
"""

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from urllib.parse import parse_qsl, urlsplit

from django.db import models

from billers.catalog import SettingId
from billers.models import Customer, Invoice, MappingRule, PartnerFormat
from billers.zones import zone_of
from partners.sentinels import VARIES

TEXT, MONEY, DATE, INT, YESNO = "text", "money", "date", "int", "yesno"

# IC field -> (record, model field, kind). FH and RowType rows are file-level.
IC_FIELDS: dict[str, tuple[str, str, str]] = {
    "InvoiceNumber": ("invoice", "invoice_number", TEXT),
    "InvoiceDate": ("invoice", "invoice_date", DATE),
    "InvoiceDueDate": ("invoice", "due_date", DATE),
    "TotalAmountDue": ("invoice", "total_amount_due", MONEY),
    "BalanceDue": ("invoice", "balance_due", MONEY),
    "PastDue": ("invoice", "past_due", MONEY),
    "BalanceForward": ("invoice", "balance_forward", YESNO),
    "BillerBillYear": ("invoice", "biller_bill_year", INT),
    "BillerInvoiceNumber": ("invoice", "biller_invoice_number", TEXT),
    "InvoiceTypeID": ("invoice", "invoice_type_id", INT),
    "RecordType": ("invoice", "record_type", TEXT),
    "InvoiceFormatGuid": ("invoice", "invoice_format_guid", TEXT),
    **{f"Custom{n}": ("invoice", f"custom{n}", TEXT) for n in range(1, 11)},
    "AccountNumber": ("customer", "account_number", TEXT),
    "CustomerName": ("customer", "name", TEXT),
    "Address1": ("customer", "address1", TEXT),
    "Address2": ("customer", "address2", TEXT),
    "City": ("customer", "city", TEXT),
    "State": ("customer", "state", TEXT),
    "Zip": ("customer", "zip", TEXT),
    "Phone": ("customer", "phone", TEXT),
    "EmailAddress": ("customer", "email_address", TEXT),
    "RegistrationValue": ("customer", "registration_value", TEXT),
}

_MODELS = {"invoice": Invoice, "customer": Customer}
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y%m%d")
_PATTERNS = {
    PartnerFormat.NUMERIC: (re.compile(r"^\d+$"), "digits only"),
    PartnerFormat.ALPHA: (re.compile(r"^[^\W\d_]+(?:[ .'\-]+[^\W\d_]+)*\.?$"), "letters only"),
    PartnerFormat.ALPHANUMERIC: (
        re.compile(r"^[\w][\w .\-/#]*$"),
        "letters, digits, spaces and - . / #",
    ),
}
_CENT = Decimal("0.01")


class ValueProblem(ValueError):
    pass


@dataclass(frozen=True)
class MappingError:
    file_spec_id: int
    ic_field: str
    message: str

    def __str__(self):
        return f"FileSpecID {self.file_spec_id} {self.ic_field}: {self.message}"


@dataclass
class MappedRecord:
    invoice: dict = field(default_factory=dict)
    customer: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # IC field -> converted value
    errors: list[MappingError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# An amount's text once `$` is removed: ASCII digits (thousands grouped by commas, or
# not), at most one point and two decimals, a leading minus (a credit). Never an
# exponent, a `+`, other digits ("١.٠٠"), nor more decimals than cents.
_AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{0,2})?|-?\.[0-9]{1,2}")
_LARGEST = Decimal("10000000000")


def to_money(value) -> Decimal:
    """An exact amount of cents: refused, never rounded, when it is not one."""
    if isinstance(value, bool):
        raise ValueProblem(f"{_shown(value)} is not an amount")
    if isinstance(value, Decimal | int | float):
        text = str(value)  # a float's shortest text: 25.1, or 1e+16 (refused)
    else:
        text = str(value).strip().replace("$", "", 1)
    if not _AMOUNT.fullmatch(text):
        raise ValueProblem(
            f"{_shown(value)} is not an amount (ASCII digits, at most two decimals, no exponent)"
        )
    amount = Decimal(text.replace(",", "")).quantize(_CENT)
    if abs(amount) >= _LARGEST:
        raise ValueProblem(f"{_shown(value)} is too large an amount")
    return amount


def _in_zone(moment: datetime.datetime, zone: datetime.tzinfo | None) -> datetime.datetime:
    """A moment with a UTC offset, seen in the biller's zone; a naive one as it is."""
    return moment.astimezone(zone) if zone is not None and moment.tzinfo is not None else moment


def to_date(value, zone: datetime.tzinfo | None = None) -> datetime.date:
    """A date; a date and time with a UTC offset gives its day in `zone` (the
    biller's), when one is given."""
    if isinstance(value, datetime.datetime):
        return _in_zone(value, zone).date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:  # the common YYYY-MM-DD, without strptime's cost (a file has millions)
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:
        return _in_zone(datetime.datetime.fromisoformat(text), zone).date()
    except ValueError:
        raise ValueProblem(f"{_shown(value)} is not a date (YYYY-MM-DD or MM/DD/YYYY)") from None


def to_int(value) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(str(value).strip())
    except ValueError:
        raise ValueProblem(f"{_shown(value)} is not a whole number") from None


def to_yesno(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0"):
        return False
    raise ValueProblem(f"{_shown(value)} is not Yes or No")


# C0 and C1 control characters and DEL (a tab, a line break, an escape, ...).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _screened(text: Callable[[object], str]) -> Callable[[object], str]:
    """`text`, refusing a value that holds a control character."""

    def screened(value):
        converted = text(value)
        if _CONTROL.search(converted):
            raise ValueProblem(f"{_shown(converted)} holds a control character")
        return converted

    return screened


_CONVERT: dict[str, Callable[..., object]] = {
    MONEY: to_money,
    DATE: to_date,
    INT: to_int,
    YESNO: to_yesno,
}


def _max_length(target: str, model_field: str) -> int | None:
    try:
        found = _MODELS[target]._meta.get_field(model_field)
    except Exception:  # noqa: BLE001 - no such field
        return None
    # A relation has no length.
    return found.max_length if isinstance(found, models.Field) else None


def _setting_value(settings: Mapping[int, str], rule_value: str):
    setting_id, _, param = rule_value.partition(":")
    value = settings.get(int(setting_id), "")
    if param:
        return dict(parse_qsl(urlsplit(value).query)).get(param)
    return value


@dataclass(frozen=True)
class _Step:
    file_spec_id: int
    ic_field: str
    target: str
    model_field: str
    get: Callable[[Mapping, dict], object]
    convert: Callable[[object], object]
    required: bool
    source: str  # for messages: where the value comes from
    after: bool = False  # computed from other IC fields (year_of)
    fixed: object = VARIES  # the converted value when it is the same for every record
    # What `convert` does, for code that checks values in bulk (SQL) instead of per record:
    rule: str = ""
    rule_value: str = ""
    partner_field: str | None = None  # the field read, for a partner_field rule
    kind: str = TEXT  # after the partner format: text, money, date, int or yesno
    partner_format: str = ""
    char_limit: int | None = None
    model_limit: int | None = None  # text only
    prefix: str = ""  # the Accela prefix of InvoiceNumber


# A step unpacked for `Mapper.apply`: step, fixed, ic_field, model_field, to_invoice,
# convert, partner field name.
_PlanRow = tuple[_Step, object, str, str, bool, Callable[[object], object], str | None]


class Mapper:
    """Compiled field mapping of one biller. `apply(record)` maps one record."""

    def __init__(
        self,
        rows: Iterable,
        *,
        settings: Mapping[int, str],
        today: datetime.date,
        default_invoice_type_id: int | None = None,
        refuse_control_characters: bool = False,
        time_zone: str | None = None,
    ):
        """`today` and `time_zone` are the biller's: a date and time with a UTC
        offset becomes the day it is in that zone (and year_of its year)."""
        self.settings = settings
        # A file's text value holding a control character (after its surrounding
        # whitespace is stripped) is an error; a partner's live record is taken as is.
        self.refuse_control_characters = refuse_control_characters
        self.today = today
        self.zone = zone_of(time_zone) if time_zone else None
        self.default_invoice_type_id = default_invoice_type_id
        self.accela_prefix = settings.get(SettingId.ACCELA_INVOICE_NUMBER_PREFIX, "") or ""
        self.steps: list[_Step] = []
        self.partner_fields: dict[str, tuple[int, str, bool]] = {}
        # A partner field is required when any row that reads it is (one field
        # may feed several IC fields: IMT's invoice_number is 10 and 347).
        self.required_partner_fields: set[str] = set()
        self._partner_names: dict[int, str] = {}  # id(step) -> the partner field it reads
        for row in rows:
            step = self._compile(row)
            if step is not None:
                step = self._fix(step, row)
                if row.rule == MappingRule.PARTNER_FIELD:
                    self._partner_names[id(step)] = row.partner_field
                self.steps.append(step)
        self.steps.sort(key=lambda step: step.after)
        self._plan: list[_PlanRow] | None = None  # built on first use, after any change to `steps`

    def _compile(self, row) -> _Step | None:
        if row.ic_field == "RowType" or row.record_type == "FH" or row.ic_field not in IC_FIELDS:
            return None
        target, model_field, kind = IC_FIELDS[row.ic_field]
        rule, rule_value = row.rule, row.rule_value
        after = False
        if rule == MappingRule.PARTNER_FIELD:
            name = row.partner_field
            self.partner_fields[name] = (row.file_spec_id, row.ic_field, row.required)
            if row.required:
                self.required_partner_fields.add(name)

            def get(record, values, name=name):
                return record.get(name)

            source = f"partner field {name!r}"
        elif rule == MappingRule.CONSTANT:

            def get(record, values, constant=rule_value):
                return constant

            source = "constant"
        elif rule == MappingRule.TODAY:

            def get(record, values, mapper=self):
                return mapper.today

            source = "today"
        elif rule == MappingRule.SETTING:
            constant = _setting_value(self.settings, rule_value)

            def get(record, values, constant=constant):
                return constant

            source = f"setting {rule_value}"
        elif rule == MappingRule.YEAR_OF:
            after = True

            def get(record, values, other=rule_value):
                date = values.get(other)
                return date.year if isinstance(date, datetime.date) else None

            source = f"year of {rule_value}"
        elif rule == MappingRule.GENERATED and row.ic_field == "InvoiceTypeID":

            def get(record, values, mapper=self):
                return mapper.default_invoice_type_id

            source = "the biller's invoice type"
        else:  # generated by the hub elsewhere, or not mapped
            return None
        effective = self._kind(row, kind)
        return _Step(
            file_spec_id=row.file_spec_id,
            ic_field=row.ic_field,
            target=target,
            model_field=model_field,
            get=get,
            convert=self._converter(row, kind, target, model_field),
            # A value the hub generates is the hub's to supply, not the partner's.
            required=row.required and rule != MappingRule.GENERATED,
            source=source,
            after=after,
            rule=rule,
            rule_value=rule_value,
            partner_field=row.partner_field if rule == MappingRule.PARTNER_FIELD else None,
            kind=effective,
            partner_format=row.partner_format,
            char_limit=row.char_limit,
            model_limit=_max_length(target, model_field) if effective == TEXT else None,
            prefix=self.accela_prefix if row.ic_field == "InvoiceNumber" else "",
        )

    @staticmethod
    def _kind(row, kind: str) -> str:
        """The kind of value the row converts to, after its partner format."""
        if row.partner_format == PartnerFormat.CURRENCY and kind == TEXT:
            return MONEY
        if row.partner_format in (PartnerFormat.DATE, PartnerFormat.DATETIME) and kind == TEXT:
            return DATE
        return kind

    @staticmethod
    def _fix(step: _Step, row) -> _Step:
        """A constant, a setting or today converts once, not once per record."""
        fixed = VARIES
        if row.rule in (MappingRule.CONSTANT, MappingRule.SETTING, MappingRule.TODAY):
            raw = step.get({}, {})
            if raw is not None and not (isinstance(raw, str) and not raw.strip()):
                try:
                    fixed = step.convert(raw)
                except ValueProblem:
                    pass  # reported on every record, as before
        return replace(step, fixed=fixed)

    def _converter(self, row, kind, target, model_field):
        partner_format = row.partner_format
        kind = self._kind(row, kind)
        convert = _CONVERT.get(kind)
        if kind == DATE and self.zone is not None:
            convert = partial(to_date, zone=self.zone)
        pattern = _PATTERNS.get(partner_format)
        limit = row.char_limit
        model_limit = _max_length(target, model_field) if kind == TEXT else None
        prefix = self.accela_prefix if row.ic_field == "InvoiceNumber" else ""

        def text(value):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            text = str(value).strip()
            if pattern is not None and text and not pattern[0].match(text):
                raise ValueProblem(f"{_shown(text)} is not {partner_format} ({pattern[1]})")
            if prefix and text and not text.startswith(prefix):
                text = prefix + text
            if limit is not None and len(text) > limit:
                raise ValueProblem(f"{_shown(text)} is longer than {limit} characters")
            if model_limit is not None and len(text) > model_limit:
                raise ValueProblem(f"{_shown(text)} is longer than {model_limit} characters")
            return text

        if convert is None:
            if self.refuse_control_characters and row.rule == MappingRule.PARTNER_FIELD:
                return _screened(text)
            if pattern is not None or prefix or limit is not None:
                return text

            def plain(value):  # the common case, a string read from a file
                if value.__class__ is not str:
                    return text(value)
                value = value.strip()
                if model_limit is not None and len(value) > model_limit:
                    raise ValueProblem(f"{_shown(value)} is longer than {model_limit} characters")
                return value

            return plain
        if limit is None:
            return convert

        def other(value):
            if limit is not None and len(str(value).strip()) > limit:
                raise ValueProblem(f"{_shown(value)} is longer than {limit} characters")
            return convert(value)

        return other

    def apply(self, record: Mapping) -> MappedRecord:
        if self._plan is None:
            self._plan = [
                (
                    step,
                    step.fixed,
                    step.ic_field,
                    step.model_field,
                    step.target == "invoice",
                    step.convert,
                    self._partner_names.get(id(step)),
                )
                for step in self.steps
            ]
        out = MappedRecord()
        values, invoice, customer = out.values, out.invoice, out.customer
        for step, fixed, ic_field, model_field, to_invoice, convert, name in self._plan:
            if fixed is not VARIES:
                values[ic_field] = fixed
                (invoice if to_invoice else customer)[model_field] = fixed
                continue
            # A partner field is read directly; other rules through their getter.
            raw = record.get(name) if name is not None else step.get(record, values)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if step.required:
                    out.errors.append(
                        MappingError(
                            step.file_spec_id, ic_field, f"required, and {step.source} is empty"
                        )
                    )
                continue
            try:
                value = convert(raw)
            except ValueProblem as e:
                out.errors.append(MappingError(step.file_spec_id, ic_field, str(e)))
                continue
            values[ic_field] = value
            (invoice if to_invoice else customer)[model_field] = value
        if "balance_due" not in invoice and "total_amount_due" in invoice:
            # An unmapped BalanceDue matches the total (IMT: "will match totalamountdue").
            invoice["balance_due"] = invoice["total_amount_due"]
        return out
