"""The client's address, the one thing throttles and lockouts count by.

Behind N proxies that each append to `X-Forwarded-For`, the client's address is
the N-th entry from the right: everything left of it was written by the client
(and may be forged), everything right of it by our own proxies. With
`ICI_TRUSTED_PROXY_COUNT=0` (the default) the header is ignored and the address
is `REMOTE_ADDR`, the peer of the socket.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(request: HttpRequest) -> str:
    """The client's IP address as text ("" when there is none).

    Trusts the `ICI_TRUSTED_PROXY_COUNT` right-most `X-Forwarded-For` entries.
    A header with fewer entries than that gives its left-most one (all of them
    were written by trusted proxies); a malformed entry gives `REMOTE_ADDR`.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = int(getattr(settings, "ICI_TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "") or ""
    entries = [entry.strip() for entry in header.split(",") if entry.strip()]
    if not entries:
        return remote
    chosen = entries[-min(count, len(entries))]
    return chosen if _valid(chosen) else remote
