"""API clients: created with a token shown once, scoped to billers. Adding a
biller to an existing client keeps its token; only `replace` rotates it."""

import secrets
from dataclasses import dataclass, field

from django.db import transaction

from billers.models import ApiClient
from billers.selectors import billers_get
from icintegrations.authentication import token_hash
from icintegrations.errors import ApplicationError, ErrorCode

TOKEN_PREFIX = "ici_"


@dataclass(frozen=True)
class ApiClientSaved:
    """What `api_client_save` did: `token` is set only when one was issued (a new
    client, or `replace`); it is shown once and stored only as a hash."""

    client: ApiClient
    created: bool
    token: str = field(default="", repr=False)
    added: list[int] = field(default_factory=list)  # BIDs added to the client's scope


@transaction.atomic
def api_client_save(*, name: str, bids: list[int], replace: bool = False) -> ApiClientSaved:
    """Create the API client `name` scoped to `bids`; for an existing one, add
    `bids` to its scope and keep its token. `replace` also gives it a new token
    (the old one stops working at once). Nothing is written when a BID is unknown."""
    if not name.strip():
        raise ApplicationError("An API client needs a name.", code=ErrorCode.INVALID_NAME)
    if not bids:
        raise ApplicationError(
            "An API client needs at least one biller.", code=ErrorCode.NO_BILLERS
        )
    billers = billers_get(bids=bids)
    client = ApiClient.objects.select_for_update().filter(name=name).first()
    if client is None:
        token = _new_token()
        client = ApiClient.objects.create(
            name=name, token_hash=token_hash(token), token_prefix=token[:12]
        )
        client.billers.set(billers)
        return ApiClientSaved(client, created=True, token=token, added=[b.bid for b in billers])
    added = api_client_billers_add(client=client, bids=bids)
    token = api_client_token_rotate(client=client) if replace else ""
    return ApiClientSaved(client, created=False, token=token, added=added)


@transaction.atomic
def api_client_billers_add(*, client: ApiClient, bids: list[int]) -> list[int]:
    """Add the billers `bids` to a client's scope; returns the BIDs that were not
    in it already. Its token and its other billers stay as they are."""
    billers = billers_get(bids=bids)
    present = set(client.billers.values_list("bid", flat=True))
    new = [b for b in billers if b.bid not in present]
    client.billers.add(*new)
    return [b.bid for b in new]


def api_client_token_rotate(*, client: ApiClient) -> str:
    """A new token for the client, returned once; the old one stops working."""
    token = _new_token()
    client.token_hash = token_hash(token)
    client.token_prefix = token[:12]
    client.save(update_fields=["token_hash", "token_prefix"])
    return token


def api_client_create(
    *, name: str, bids: list[int], replace: bool = False
) -> tuple[ApiClient, str]:
    """A new API client and its token (tests, benchmarks). An existing name is
    duplicate_name, unless `replace`: then its token is rotated, billers added."""
    if not replace and ApiClient.objects.filter(name=name).exists():
        raise ApplicationError(
            f"An API client named {name!r} exists (--replace gives it a new token).",
            code=ErrorCode.DUPLICATE_NAME,
        )
    saved = api_client_save(name=name, bids=bids, replace=True)
    return saved.client, saved.token


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)
