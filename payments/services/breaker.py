"""The per-partner circuit breaker, a database row shared by every worker.

After ICI_PUMP_BREAKER_THRESHOLD calls in a row that did not reach the partner
or got no usable answer, the partner is left alone until `open_until`; its
deliveries wait for then without counting an attempt, and other partners'
deliveries go on. After the cool-down the next call is a probe: a failure opens
the breaker again at once for twice as long (up to the cap), a success closes it.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from icintegrations.errors import ErrorCode
from partners.connectors.errors import Outcome
from payments.models import CircuitBreaker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakerState:
    partner: str
    open_until: datetime.datetime | None
    troubled: bool  # failures counted or recently open: a success must reset it

    def is_open(self, now: datetime.datetime) -> bool:
        return self.open_until is not None and self.open_until > now


def breaker_state(*, partner: str) -> BreakerState:
    row = (
        CircuitBreaker.objects.filter(partner=partner)
        .values("open_until", "failures", "opened_count")
        .first()
    )
    if row is None:
        return BreakerState(partner, None, False)
    troubled = bool(row["failures"] or row["opened_count"])
    return BreakerState(partner, row["open_until"], troubled)


def breaker_record(*, state: BreakerState, outcome: str, error_code: str = "", message: str = ""):
    """Count one call's outcome. Rejected counts as reached (the partner answered);
    a missing setting is the biller's problem, not the partner's."""
    if outcome in (Outcome.SUCCESS, Outcome.REJECTED):
        if state.troubled:
            CircuitBreaker.objects.filter(partner=state.partner).update(
                failures=0, opened_count=0, open_until=None, updated_at=timezone.now()
            )
        return
    if error_code == ErrorCode.PARTNER_NOT_CONFIGURED:
        return
    now = timezone.now()
    threshold = settings.ICI_PUMP_BREAKER_THRESHOLD
    with transaction.atomic():
        CircuitBreaker.objects.get_or_create(partner=state.partner)
        row = CircuitBreaker.objects.select_for_update().get(partner=state.partner)
        if row.open_until is not None and row.open_until > now:
            return  # already open: calls that were in flight when it opened
        row.failures += 1
        row.last_failure = message[:500]
        if row.failures >= threshold:
            row.opened_count += 1
            cooldown = min(
                settings.ICI_PUMP_BREAKER_COOLDOWN * 2 ** (row.opened_count - 1),
                settings.ICI_PUMP_BREAKER_COOLDOWN_CAP,
            )
            row.open_until = now + datetime.timedelta(seconds=cooldown)
            # The next failure (the probe's) opens it again at once.
            row.failures = threshold - 1
            logger.warning(
                "Data Pump: %s breaker open for %.0f s after %s failures (%s)",
                state.partner, cooldown, threshold, message,
            )  # fmt: skip
        row.save()
