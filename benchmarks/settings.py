"""Settings for the benchmarks: the hub's own settings in demo mode, tuned for measuring.

The database comes from the environment as usual (`DATABASE_URL` for PostgreSQL,
else SQLite under `ICI_VAR_DIR`); `benchmarks/rtdr.py` chooses both. DEBUG is off
(no query log), request logs are off (WARNING), and the RTDR throttle is high
enough never to trigger, so that the run measures the lookup and not the limiter.
"""

import os

os.environ.setdefault("ICI_MODE", "demo")

from icintegrations.settings import *  # noqa: E402, F403
from icintegrations.settings import LOGGING, REST_FRAMEWORK  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchmarks.urls"

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "rtdr": "100000000/min",
    },
}

LOGGING = {
    **LOGGING,
    "root": {**LOGGING["root"], "level": "WARNING"},
}
