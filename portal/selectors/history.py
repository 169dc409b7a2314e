"""Payment history of one biller for the portal (selectors): the filtered,
sorted set, one page of it by keyset, its totals, and its CSV.

Pages are keyset pages: a page is the `size` rows after (or before) the row a
cursor names, in the order (sort column, id), both directions served by one
index each (see `Payment.Meta.indexes`). No page counts or skips rows, so page
1,000 costs what page 1 costs. The cursor is signed: a changed or made-up one
is refused (`InvalidCursor`), and it is bound to the biller and the sort it was
made for.

Totals are a separate read (a SUM over the whole filtered set costs as much as
a COUNT: too much for every page), and the CSV reads the same order in keyset
batches, each its own short query, so that memory stays flat whatever the size
of the set and no transaction is held open while the client downloads.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.db import connections
from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Concat, Upper
from django.utils import timezone

from billers.models import Biller
from billers.zones import zone_of
from payments.models import Payment, PaymentStatus

PAGE_SIZE = 50
CSV_BATCH_SIZE = 2000

# sort key (as in the URL) -> (column, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "-paid_at": ("paid_at", True),
    "paid_at": ("paid_at", False),
    "-amount": ("amount", True),
    "amount": ("amount", False),
}
DEFAULT_SORT = "-paid_at"

# What a page and the CSV show of a payment (one row of `.values()`).
ROW_FIELDS = (
    "id",
    "payment_guid",
    "paid_at",
    "invoice_number",
    "account_number",
    "payer_name",
    "amount",
    "service_fee",
    "method",
    "payment_source",
    "status",
    "receipt_number",
    "approval_code",
    "reversal__kind",
    "reversal__status",
)

CSV_HEADER = (
    "paid at",
    "payment GUID",
    "invoice number",
    "account number",
    "payer name",
    "amount",
    "fee",
    "method",
    "source",
    "status",
    "receipt number",
    "approval code",
    "reversal",
)
# OWASP CSV injection: a spreadsheet reads a cell starting with one of these as
# a formula (tab and carriage return can hide one behind them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The module's old name: a new salt would refuse every page link already handed out.
_CURSOR_SALT = "payments.portal.history.cursor"


class InvalidCursor(ValueError):
    """A page link that was changed, made up, or made for another biller or sort."""


@dataclass(frozen=True)
class HistoryQuery:
    """The filters and sort of a payment history (validated by the caller)."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    status: str = ""
    method: str = ""
    source: str = ""
    number: str = ""
    payer: str = ""
    sort: str = DEFAULT_SORT

    def __post_init__(self):
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}")


@dataclass
class HistoryPage:
    rows: list[dict]
    next_cursor: str | None
    prev_cursor: str | None
    # True when the page was asked for with a cursor (not the first page as such).
    paged: bool = False


@dataclass
class HistoryTotals:
    count: int = 0
    amount: Decimal = Decimal("0.00")
    fees: Decimal = Decimal("0.00")
    by_status: list[dict] = field(default_factory=list)


def payment_history(*, biller: Biller, query: HistoryQuery) -> QuerySet[Payment]:
    """The biller's payments that pass the filters, unordered."""
    qs = Payment.objects.filter(biller=biller)
    tz = zone_of(biller.time_zone)  # the biller's days
    if query.date_from:
        start = datetime.datetime.combine(query.date_from, datetime.time.min, tzinfo=tz)
        qs = qs.filter(paid_at__gte=start)
    if query.date_to:
        end = datetime.datetime.combine(
            query.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        )
        qs = qs.filter(paid_at__lt=end)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.method:
        qs = qs.filter(method=query.method)
    if query.source:
        qs = qs.filter(payment_source=query.source)
    if query.number:
        qs = qs.filter(Q(invoice_number=query.number) | Q(account_number=query.number))
    if query.payer:
        # A case-insensitive prefix, served by the index on UPPER(payer_name) (a
        # "contains" search could not use a B-tree index). PostgreSQL's LIKE uses
        # it as is (text_pattern_ops); SQLite's cannot, but a range on the same
        # expression can, so SQLite gets one as well (LIKE still decides).
        qs = qs.filter(payer_name__istartswith=query.payer)
        if connections[qs.db].vendor == "sqlite":
            prefix = Upper(Value(query.payer))
            qs = qs.alias(payer_upper=Upper("payer_name")).filter(
                payer_upper__gte=prefix, payer_upper__lt=Concat(prefix, Value(chr(0x10FFFF)))
            )
    return qs


def _ordered(qs: QuerySet, column: str, descending: bool) -> QuerySet:
    return qs.order_by(f"-{column}", "-id") if descending else qs.order_by(column, "id")


def _beyond(qs: QuerySet, column: str, descending: bool, value, pk: int) -> QuerySet:
    """The rows after (column, id) = (value, pk) in the order (column, id)
    descending or ascending. The redundant `column <= value` (or >=) lets the
    database start its index scan at the cursor instead of filtering from the
    top, on SQLite as well as PostgreSQL."""
    if descending:
        return qs.filter(**{f"{column}__lte": value}).filter(
            Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": pk})
        )
    return qs.filter(**{f"{column}__gte": value}).filter(
        Q(**{f"{column}__gt": value}) | Q(**{column: value, "id__gt": pk})
    )


def _encode(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _decode(column: str, text) -> object:
    if not isinstance(text, str):
        raise InvalidCursor("not a string")
    if column == "paid_at":
        try:
            value = datetime.datetime.fromisoformat(text)
        except ValueError as e:
            raise InvalidCursor("not a date and time") from e
        if value.tzinfo is None:
            raise InvalidCursor("naive date and time")
        return value
    try:
        amount = Decimal(text)
    except InvalidOperation as e:
        raise InvalidCursor("not an amount") from e
    if not amount.is_finite():
        raise InvalidCursor("not an amount")
    return amount


def cursor_make(*, biller: Biller, sort: str, row: dict, forward: bool) -> str:
    """The page link's token for the rows after (`forward`) or before `row`."""
    column, _ = SORTS[sort]
    payload = {
        "b": biller.bid,
        "s": sort,
        "d": "n" if forward else "p",
        "v": _encode(row[column]),
        "i": row["id"],
    }
    return signing.Signer(salt=_CURSOR_SALT).sign_object(payload)


def cursor_read(*, biller: Biller, sort: str, token: str) -> tuple[bool, object, int]:
    """(forward, value, id) of a cursor made by `cursor_make` for this biller and
    sort; `InvalidCursor` for anything else."""
    try:
        payload = signing.Signer(salt=_CURSOR_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError) as e:
        raise InvalidCursor("bad signature") from e
    if not isinstance(payload, dict) or set(payload) != {"b", "s", "d", "v", "i"}:
        raise InvalidCursor("bad shape")
    if payload["b"] != biller.bid or payload["s"] != sort or payload["d"] not in ("n", "p"):
        raise InvalidCursor("another biller, sort or direction")
    pk = payload["i"]
    if type(pk) is not int or pk < 1:
        raise InvalidCursor("bad id")
    column, _ = SORTS[sort]
    return payload["d"] == "n", _decode(column, payload["v"]), pk


def payment_history_page_query(
    *, biller: Biller, query: HistoryQuery, cursor: str | None = None, size: int | None = None
) -> tuple[QuerySet, bool]:
    """The one query of a page (`size` + 1 rows, so that a next page shows
    itself) and whether it reads forward; `InvalidCursor` for a bad cursor."""
    size = size or PAGE_SIZE
    column, descending = SORTS[query.sort]
    qs = payment_history(biller=biller, query=query)
    forward = True
    if cursor is not None:
        forward, value, pk = cursor_read(biller=biller, sort=query.sort, token=cursor)
        # Going back reads the rows before the cursor, in the opposite order.
        qs = _beyond(qs, column, descending == forward, value, pk)
    return _ordered(qs, column, descending == forward).values(*ROW_FIELDS)[: size + 1], forward


def payment_history_page(
    *, biller: Biller, query: HistoryQuery, cursor: str | None = None, size: int | None = None
) -> HistoryPage:
    """One page of the filtered history: `size` rows after or before the row the
    cursor names (the first page without one). One query of `size` + 1 rows."""
    size = size or PAGE_SIZE
    page_query, forward = payment_history_page_query(
        biller=biller, query=query, cursor=cursor, size=size
    )
    rows = list(page_query)
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    if forward:
        has_next, has_prev = more, cursor is not None
    else:
        has_next, has_prev = True, more
    return HistoryPage(
        rows=rows,
        next_cursor=cursor_make(biller=biller, sort=query.sort, row=rows[-1], forward=True)
        if rows and has_next
        else None,
        prev_cursor=cursor_make(biller=biller, sort=query.sort, row=rows[0], forward=False)
        if rows and has_prev
        else None,
        paged=cursor is not None,
    )


def payment_history_totals_query(*, biller: Biller, query: HistoryQuery) -> QuerySet:
    """Count, amount and fees of the filtered set per status (one aggregate)."""
    return (
        payment_history(biller=biller, query=query)
        .order_by()
        .values("status")
        .annotate(count=Count("id"), amount=Sum("amount"), fees=Sum("service_fee"))
    )


def payment_history_totals(*, biller: Biller, query: HistoryQuery) -> HistoryTotals:
    """Count, amount and fees of the whole filtered set, and per status. One
    aggregate over every matching row: it costs about what a COUNT costs."""
    groups = list(payment_history_totals_query(biller=biller, query=query))
    labels = dict(PaymentStatus.choices)
    order = list(labels)
    groups.sort(key=lambda g: order.index(g["status"]) if g["status"] in order else len(order))
    totals = HistoryTotals()
    for group in groups:
        group["label"] = labels.get(group["status"], group["status"])
        group["amount"] = group["amount"] or Decimal("0.00")
        group["fees"] = group["fees"] or Decimal("0.00")
        totals.count += group["count"]
        totals.amount += group["amount"]
        totals.fees += group["fees"]
    totals.amount = totals.amount.quantize(Decimal("0.01"))
    totals.fees = totals.fees.quantize(Decimal("0.01"))
    totals.by_status = groups
    return totals


def _cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _csv_row(row: dict, tz) -> list[str]:
    reversal = ""
    if row["reversal__kind"]:
        reversal = f"{row['reversal__kind']} ({row['reversal__status']})"
    return [
        _cell(timezone.localtime(row["paid_at"], tz).strftime("%Y-%m-%d %H:%M:%S")),
        _cell(row["payment_guid"]),
        _cell(row["invoice_number"]),
        _cell(row["account_number"]),
        _cell(row["payer_name"]),
        _cell(f"{row['amount']:.2f}"),
        _cell(f"{row['service_fee']:.2f}"),
        _cell(row["method"]),
        _cell(row["payment_source"]),
        _cell(row["status"]),
        _cell(row["receipt_number"]),
        _cell(row["approval_code"]),
        _cell(reversal),
    ]


def payment_history_csv(
    *, biller: Biller, query: HistoryQuery, batch_size: int | None = None
) -> Iterator[str]:
    """The filtered history as CSV text in the page's order, a header first, one
    chunk per batch of `batch_size` rows read by keyset (each batch its own
    query, so no transaction stays open and memory does not grow with the set).
    Every cell that a spreadsheet would take for a formula gets a leading `'`.
    Times are in the biller's time zone (the header says which), the zone of
    its date filters. The chunks are read as the caller iterates (a streamed
    response: after the view returned)."""
    tz = zone_of(biller.time_zone)
    header = [f"paid at ({tz})", *CSV_HEADER[1:]]
    return _csv_chunks(
        base=payment_history(biller=biller, query=query),
        sort=query.sort,
        header=header,
        tz=tz,
        batch_size=batch_size or CSV_BATCH_SIZE,
    )


def _csv_chunks(*, base: QuerySet, sort: str, header: list[str], tz, batch_size: int):
    column, descending = SORTS[sort]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()  # the BOM: spreadsheets then read UTF-8 as UTF-8
    last = None
    while True:
        qs = base if last is None else _beyond(base, column, descending, last[column], last["id"])
        rows = list(_ordered(qs, column, descending).values(*ROW_FIELDS)[:batch_size])
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_row(row, tz) for row in rows)
        yield buffer.getvalue()
        if len(rows) < batch_size:
            return
        last = rows[-1]
