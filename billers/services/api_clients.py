import secrets

from django.db import transaction

from billers.models import ApiClient, Biller
from icintegrations.authentication import token_hash
from icintegrations.errors import ApplicationError

TOKEN_PREFIX = "ici_"


@transaction.atomic
def api_client_create(
    *, name: str, bids: list[int], replace: bool = False
) -> tuple[ApiClient, str]:
    """Create an API client for some billers. Returns it with its token, which
    is shown once and stored only as a hash. `replace` first deletes a client of
    the same name (its old token stops working)."""
    if not name.strip():
        raise ApplicationError("An API client needs a name.", code="invalid_name")
    if not bids:
        raise ApplicationError("An API client needs at least one biller.", code="no_billers")
    if replace:
        ApiClient.objects.filter(name=name).delete()
    if ApiClient.objects.filter(name=name).exists():
        raise ApplicationError(
            f"An API client named {name!r} exists (--replace gives it a new token).",
            code="duplicate_name",
        )
    billers = list(Biller.objects.filter(bid__in=bids))
    missing = sorted(set(bids) - {b.bid for b in billers})
    if missing:
        raise ApplicationError(
            f"No biller with BID {', '.join(map(str, missing))}.", code="biller_not_found"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name, token_hash=token_hash(token), token_prefix=token[:12]
    )
    client.billers.set(billers)
    return client, token
