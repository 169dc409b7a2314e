"""Filters of the Data Pump's rows shared by its services and the selectors, so
that a selector reads the same "due" as the worker takes without importing a
service."""

import datetime

from django.db.models import Q

from payments.models import OPEN_STATUSES


def due_q(now: datetime.datetime) -> Q:
    """Deliveries a worker may take now: open, not held for the biller's
    credentials, their time come, no live lease."""
    return Q(status__in=OPEN_STATUSES, next_attempt_at__lte=now, held=False) & (
        Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    )
