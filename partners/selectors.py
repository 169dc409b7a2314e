"""Reads for RTDR. The lookup path runs on every payer keystroke that submits an
invoice number, so its reads are cached (configuration, icintegrations.memo)
or written as one plain SQL statement (the invoice): building the ORM query
cost more than running it (benchmarks/README.md)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from billers.catalog import OptionId
from billers.models import Biller, BillerOption, Customer, Invoice, InvoiceType
from billers.selectors import biller_secret_values, biller_setting_values
from billers.zones import today_in_zone
from icintegrations.errors import NotFoundError
from icintegrations.memo import TtlCache
from partners.connectors.base import ConnectorConfig
from partners.connectors.http import Redactor
from partners.mapping import Mapper

_billers = TtlCache("billers by client and BID")
_configs = TtlCache("connector configurations")


@dataclass(frozen=True)
class CustomerView:
    account_number: str
    name: str
    address1: str
    address2: str
    city: str
    state: str
    zip: str


@dataclass(frozen=True)
class InvoiceView:
    """What a lookup answers with: an invoice and its customer, read once."""

    id: int
    invoice_number: str
    invoice_date: datetime.date | None
    due_date: datetime.date | None
    total_amount_due: Decimal
    balance_due: Decimal | None
    past_due: Decimal | None
    refreshed_at: datetime.datetime | None
    customer: CustomerView

    @classmethod
    def of(cls, invoice: Invoice) -> "InvoiceView":
        c = invoice.customer
        return cls(
            id=invoice.pk,
            invoice_number=invoice.invoice_number,
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            total_amount_due=invoice.total_amount_due,
            balance_due=invoice.balance_due,
            past_due=invoice.past_due,
            refreshed_at=invoice.refreshed_at,
            customer=CustomerView(
                c.account_number, c.name, c.address1, c.address2, c.city, c.state, c.zip
            ),
        )


def biller_for_client(*, client_id: int, bid: int) -> Biller:
    """An active biller the API client may see, with what a lookup needs; 404 otherwise."""
    biller = _billers.get_or_load((client_id, bid), lambda: _biller_for_client(client_id, bid))
    if biller is None:
        raise NotFoundError(f"No biller with BID {bid}.", code="biller_not_found")
    return biller


def _biller_for_client(client_id: int, bid: int) -> Biller | None:
    return (
        Biller.objects.filter(bid=bid, is_active=True, api_clients=client_id)
        .annotate(
            override_six_hours=Exists(
                BillerOption.objects.filter(
                    biller=OuterRef("pk"),
                    option_id=OptionId.RTDR_OVERRIDE_SIX_HOUR_CHECK,
                    enabled=True,
                )
            )
        )
        .only(
            "id",
            "bid",
            "name",
            "partner",
            "environment",
            "lookup_requires_zip",
            "overpayment_allowance",
            "maximum_payment",
            "time_zone",
        )  # fmt: skip
        .order_by()
        .first()
    )


def _sql() -> str:
    i, c = Invoice._meta.db_table, Customer._meta.db_table
    return (
        f"SELECT i.id, i.invoice_number, i.invoice_date, i.due_date, "
        f"CAST(i.total_amount_due AS TEXT), CAST(i.balance_due AS TEXT), "
        f"CAST(i.past_due AS TEXT), i.refreshed_at, c.account_number, c.name, c.address1, "
        f"c.address2, c.city, c.state, c.zip "
        f"FROM {i} i JOIN {c} c ON c.id = i.customer_id "
        f"WHERE i.biller_id = %s AND i.invoice_number = %s"
    )


_SQL = None


def _date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _datetime(value):
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)  # stored in UTC (USE_TZ)
    return value


def _decimal(value):
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def invoice_for_lookup(*, biller: Biller, invoice_number: str) -> InvoiceView | None:
    global _SQL
    if _SQL is None:
        _SQL = _sql()
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [biller.pk, invoice_number])
        row = cursor.fetchone()
    if row is None:
        return None
    return InvoiceView(
        id=row[0],
        invoice_number=row[1],
        invoice_date=_date(row[2]),
        due_date=_date(row[3]),
        total_amount_due=_decimal(row[4]),
        balance_due=_decimal(row[5]),
        past_due=_decimal(row[6]),
        refreshed_at=_datetime(row[7]),
        customer=CustomerView(*row[8:15]),
    )


def connector_config(*, biller: Biller) -> ConnectorConfig:
    return _configs.get_or_load(biller.pk, lambda: _connector_config(biller))


def connector_config_by_id(*, biller_id: int) -> ConnectorConfig:
    """The same, reading the biller only when the cache has no fresh copy."""
    return _configs.get_or_load(
        biller_id, lambda: _connector_config(Biller.objects.get(pk=biller_id))
    )


def _connector_config(biller: Biller) -> ConnectorConfig:
    return ConnectorConfig(
        bid=biller.bid,
        partner=biller.partner,
        environment=biller.environment,
        settings=biller_setting_values(biller=biller),
        time_zone=biller.time_zone,
    )


def default_invoice_type_id(*, biller: Biller) -> int | None:
    """The biller's invoice type when it has exactly one (for a generated InvoiceTypeID)."""
    types = list(InvoiceType.objects.filter(biller=biller).values_list("type_id", flat=True)[:2])
    return types[0] if len(types) == 1 else None


def biller_mapper(*, biller: Biller, settings: dict[int, str], for_files: bool = False) -> Mapper:
    """The biller's field mapping, compiled, with today's date (in the biller's time
    zone, as every date with a UTC offset it maps) and its invoice type.
    `for_files`: a text value holding a control character is an error."""
    return Mapper(
        biller.field_mappings.all(),
        refuse_control_characters=for_files,
        settings=settings,
        today=today_in_zone(time_zone=biller.time_zone),
        default_invoice_type_id=default_invoice_type_id(biller=biller),
        time_zone=biller.time_zone,
    )


def biller_redactor(*, biller: Biller) -> Redactor:
    """Redacts every secret setting of the biller, wherever it appears (for the
    pages that show partner text: the admin's tools and the biller portal)."""
    return Redactor(biller_secret_values(biller=biller).values())
