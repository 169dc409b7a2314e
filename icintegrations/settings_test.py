"""Test settings: only what the tests need on top of the real settings."""

import os

os.environ.setdefault("ICI_MODE", "test")

from icintegrations.settings import *  # noqa: E402,F403
from icintegrations.settings import Q_CLUSTER  # noqa: E402

# Tests change a biller and look it up at once: no configuration cache (its own
# test turns it on).
ICI_CONFIG_CACHE_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# The pump in tests: no waiting between tries unless a test asks for it.
ICI_PUMP_BACKOFF_BASE = 0.0
ICI_PUMP_RECONCILE_DELAY = 0.0

# Partner sandboxes answer in milliseconds; a test that injects a hang waits 1 s.
ICI_PARTNER_CONNECT_TIMEOUT = 1.0
ICI_PARTNER_READ_TIMEOUT = 0.5

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as in production (WAL, IMMEDIATE, busy timeout): SQLite's shared
    # in-memory database answers "database table is locked" to concurrent writers
    # instead of waiting, which the concurrency tests would meet.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405

# The tests run without collectstatic: whitenoise looks static files up per request
# instead of listing STATIC_ROOT at start (which would warn that it is missing).
WHITENOISE_AUTOREFRESH = True
