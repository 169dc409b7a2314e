"""The hub's clock set to a moment, for tests at a day's boundary."""

import datetime

from django.utils import timezone


def clock_at(monkeypatch, moment: datetime.datetime) -> None:
    """`timezone.now()` reads `moment` for the rest of the test."""
    monkeypatch.setattr(timezone, "now", lambda: moment)
