"""Point a biller at a partner sandbox (the demo, the tests, the benchmarks)."""

from urllib.parse import urlsplit, urlunsplit

from django.db import transaction

from billers.models import Biller, BillerSetting, Partner
from billers.services.settings import biller_setting_set
from icintegrations.errors import ApplicationError

# Settings holding a URL whose host is replaced, and settings holding the credential.
SANDBOX_SETTINGS = {
    Partner.CITIZENSERVE: {"urls": (8, 11), "credentials": (13,)},
    Partner.IMT: {"urls": (8,), "credentials": (10, 13)},
}
DEFAULT_PATHS = {
    8: "/Portal/PortalController?Action=getQuery&portalPageDisplay=true&report_ID=641"
    "&installationID=24&ctzPagePrefix=Portal_&ParamCount=1&Param_1=",
    11: "/citizenws/service/addlicensepayment",
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
