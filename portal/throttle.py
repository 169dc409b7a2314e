"""Log-in throttling: failed attempts counted per username and per address in
fixed windows in the cache (Redis when ICI_REDIS_URL is set, so every web
process shares the counts). Successful log-ins are not counted."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    window = settings.ICI_PORTAL_LOGIN_WINDOW_SECONDS
    slot = int(time.time() // window)
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]
    return [
        (f"portal-login:u:{name}:{slot}", settings.ICI_PORTAL_LOGIN_FAILURES_PER_USER),
        (f"portal-login:a:{address}:{slot}", settings.ICI_PORTAL_LOGIN_FAILURES_PER_ADDRESS),
    ]


def login_blocked_for(*, username: str, address: str) -> int:
    """Seconds until the next attempt is allowed; 0 when it is allowed now."""
    window = settings.ICI_PORTAL_LOGIN_WINDOW_SECONDS
    for key, limit in _keys(username, address):
        if (cache.get(key) or 0) >= limit:
            return int(window - time.time() % window) + 1
    return 0


def login_failed(*, username: str, address: str) -> None:
    window = settings.ICI_PORTAL_LOGIN_WINDOW_SECONDS
    for key, _limit in _keys(username, address):
        cache.add(key, 0, timeout=window + 1)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 1)
