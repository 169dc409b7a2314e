"""Test settings: only what the tests need on top of the real settings."""

import os

os.environ.setdefault("ICI_MODE", "test")

from icintegrations.settings import *  # noqa: E402,F403
from icintegrations.settings import Q_CLUSTER  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
