from django.db.models import Exists, OuterRef

from billers.models import Biller, BillerOption, Invoice, InvoiceType
from billers.selectors import biller_setting_values
from icintegrations.errors import NotFoundError
from partners.connectors.base import ConnectorConfig

OVERRIDE_SIX_HOUR_CHECK = 64  # integration option


def biller_for_client(*, client_id: int, bid: int) -> Biller:
    """An active biller the API client may see, with what a lookup needs; 404 otherwise."""
    biller = (
        Biller.objects.filter(bid=bid, is_active=True, api_clients=client_id)
        .annotate(
            override_six_hours=Exists(
                BillerOption.objects.filter(
                    biller=OuterRef("pk"), option_id=OVERRIDE_SIX_HOUR_CHECK, enabled=True
                )
            )
        )
        .only("id", "bid", "name", "partner", "environment", "lookup_requires_zip")
        .first()
    )
    if biller is None:
        raise NotFoundError(f"No biller with BID {bid}.", code="biller_not_found")
    return biller


def invoice_for_lookup(*, biller: Biller, invoice_number: str) -> Invoice | None:
    return (
        Invoice.objects.select_related("customer")
        .only(
            "id", "invoice_number", "invoice_date", "due_date", "total_amount_due",
            "balance_due", "past_due", "refreshed_at", "customer__account_number",
            "customer__name", "customer__address1", "customer__address2", "customer__city",
            "customer__state", "customer__zip",
        )
        .filter(biller=biller, invoice_number=invoice_number)
        .first()
    )  # fmt: skip


def connector_config(*, biller: Biller) -> ConnectorConfig:
    return ConnectorConfig(
        bid=biller.bid,
        partner=biller.partner,
        environment=biller.environment,
        settings=biller_setting_values(biller=biller),
    )


def default_invoice_type_id(*, biller: Biller) -> int | None:
    """The biller's invoice type when it has exactly one (for a generated InvoiceTypeID)."""
    types = list(InvoiceType.objects.filter(biller=biller).values_list("type_id", flat=True)[:2])
    return types[0] if len(types) == 1 else None
