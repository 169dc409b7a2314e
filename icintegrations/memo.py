"""A small per-process cache with a time to live, for the configuration a hot
path reads on every request (API clients, billers, their settings).

Changes made in the admin or by a command reach every process within
`ICI_CONFIG_CACHE_SECONDS` (default 10; 0 turns the cache off).
"""

import time

from django.conf import settings

_MISSING = object()
_all: list["TtlCache"] = []


class TtlCache:
    def __init__(self, name: str, maxsize: int = 10_000):
        self.name = name
        self.maxsize = maxsize
        self._data: dict = {}
        _all.append(self)

    def get_or_load(self, key, load):
        seconds = settings.ICI_CONFIG_CACHE_SECONDS
        if seconds <= 0:
            return load()
        now = time.monotonic()
        item = self._data.get(key, _MISSING)
        if item is not _MISSING and item[0] > now:
            return item[1]
        value = load()
        if len(self._data) >= self.maxsize:
            self._data.clear()
        self._data[key] = (now + seconds, value)
        return value

    def clear(self):
        self._data.clear()


def clear_all():
    for cache in _all:
        cache.clear()
