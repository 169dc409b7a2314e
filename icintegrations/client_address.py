"""The client's address, as the throttles and the log-in lockouts see it.

Behind ICI_TRUSTED_PROXY_COUNT proxies (default 0: none), each of which appends
the address it received the request from to `X-Forwarded-For`, the client is
the entry that many places from the right; anything further left was written by
the client and is not trusted. With no proxies, or a header shorter than the
count (the request did not come through them), it is REMOTE_ADDR.
"""

from django.conf import settings


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "ICI_TRUSTED_PROXY_COUNT", 0) or 0
    if count <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [entry.strip() for entry in header.split(",") if entry.strip()]
    if len(entries) < count:
        return remote
    return entries[-count]
