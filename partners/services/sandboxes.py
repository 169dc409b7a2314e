"""Point a biller at a partner sandbox (the demo, the tests, the benchmarks)."""

from urllib.parse import urlsplit, urlunsplit

import requests
from django.db import transaction

from billers.catalog import SettingId
from billers.models import Biller, BillerSetting, Invoice, Partner, RefreshSource
from billers.selectors import biller_setting_values
from billers.services.settings import biller_setting_set
from icintegrations.errors import ApplicationError
from partners.connectors.base import PartnerRecord
from partners.selectors import biller_mapper
from partners.services.rtdr import invoice_create_from_partner

# Settings holding a URL whose host is replaced, and settings holding the credential.
SANDBOX_SETTINGS: dict[str, dict[str, tuple[SettingId, ...]]] = {
    Partner.CITIZENSERVE: {
        "urls": (SettingId.RTDR_URL, SettingId.PAYMENTS_URL),
        "credentials": (SettingId.PAYMENTS_PASSWORD,),
    },
    Partner.IMT: {
        "urls": (SettingId.RTDR_URL,),
        "credentials": (SettingId.RTDR_KEY, SettingId.PAYMENTS_PASSWORD),
    },
}
DEFAULT_PATHS = {
    SettingId.RTDR_URL: "/Portal/PortalController?Action=getQuery&portalPageDisplay=true"
    "&report_ID=641&installationID=24&ctzPagePrefix=Portal_&ParamCount=1&Param_1=",
    SettingId.PAYMENTS_URL: "/citizenws/service/addlicensepayment",
}


@transaction.atomic
def biller_point_at_sandbox(*, biller: Biller, sandbox_url: str, credential: str) -> None:
    """Keep each URL setting's path and query, put the sandbox's scheme and host in
    front of it, and store the sandbox's credential as the biller's secret."""
    layout = SANDBOX_SETTINGS.get(biller.partner)
    if layout is None:
        raise ApplicationError(f"No sandbox for partner {biller.partner}.", code="no_sandbox")
    sandbox = urlsplit(sandbox_url)
    current = dict(
        BillerSetting.objects.filter(biller=biller, setting_id__in=layout["urls"]).values_list(
            "setting_id", "value"
        )
    )
    for setting_id in layout["urls"]:
        if biller.partner == Partner.IMT:
            value = sandbox_url.rstrip("/")
        else:
            old = urlsplit(current.get(setting_id) or DEFAULT_PATHS[setting_id])
            value = urlunsplit((sandbox.scheme, sandbox.netloc, old.path, old.query, ""))
        biller_setting_set(biller=biller, setting_id=setting_id, value=value)
    for setting_id in layout["credentials"]:
        biller_setting_set(biller=biller, setting_id=setting_id, value=credential)


def demo_invoices_from_imt_sandbox(*, biller: Biller, sandbox_url: str) -> int:
    """Demo only: IMT's invoices arrive by file, so put the IMT sandbox's invoices
    into the hub as if a file had brought them (through the biller's mapping).
    Returns how many were added; invoices the hub has already are left alone."""
    ledger = requests.get(f"{sandbox_url.rstrip('/')}/_sandbox/ledger", timeout=5).json()
    mapper = biller_mapper(biller=biller, settings=biller_setting_values(biller=biller))

    known = set(Invoice.objects.filter(biller=biller).values_list("invoice_number", flat=True))
    added = 0
    for number, detail in ledger["invoices"].items():
        if number in known:
            continue
        row = {  # the invoice file's columns, from the API's invoice detail
            "invoice_number": number,
            "invoice_date": detail.get("invoice_month", ""),
            "due_date": detail.get("due_date", ""),
            "amount_due": detail.get("amount_due", ""),
            "past_due_amount": detail.get("past_due", ""),
            "customer_id": detail.get("customer", ""),
            "customer_name": f"Demo customer {detail.get('customer', '')}",
            "ZIP": "62701",
        }
        mapped = mapper.apply(row)
        if mapped.errors:
            continue
        invoice_create_from_partner(
            biller=biller,
            mapped=mapped,
            record=PartnerRecord(invoice_number=number, record=row, exchange=None),
            via=RefreshSource.FILE,
        )
        added += 1
    return added
