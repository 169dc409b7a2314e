"""How a credential hold lifts: all at once (a setting of the biller saved, an
operator's "Retry now", a probe the partner accepted), or one probe delivery
from the sweep every ICI_PUMP_AUTH_RETRY_MINUTES. Every held delivery goes back
to its queue as it was (pending, or reconciling: read back, never re-posted
unread) and is taken under the usual lease, so each is posted once."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from icintegrations.errors import ErrorCode
from partners.connectors.errors import Outcome
from payments.models import CredentialHold, Delivery, DeliveryAttempt
from payments.services.delivery.claim import delivery_enqueue
from payments.services.delivery.hold import HELD_STATUSES, held_count
from payments.services.delivery.results import Lease


def credential_hold_release(*, biller_id: int, why: str) -> int:
    """Lift the biller's hold and enqueue every delivery it held (on commit).
    Returns how many; 0 when the biller's credentials are not held."""
    now = timezone.now()
    with transaction.atomic():
        hold = (
            CredentialHold.objects.select_for_update()
            .filter(biller_id=biller_id, since__isnull=False)
            .first()
        )
        if hold is None:
            return 0
        held = list(
            Delivery.objects.filter(biller_id=biller_id, held=True, status__in=HELD_STATUSES)
            .order_by("created_at", "pk")
            .values_list("pk", "request_id")
        )
        Delivery.objects.filter(biller_id=biller_id, held=True).update(
            held=False,
            next_attempt_at=now,
            enqueued_at=None,
            updated_at=now,
            last_error=f"Released from the credential hold: {why}"[:500],
        )
        hold.since = None
        hold.probe = None
        hold.held = 0
        hold.released_at = now
        hold.save()
        for pk, request_id in held:
            delivery_enqueue(pk, request_id=request_id)
    return len(held)


def credential_probes_start(*, now: datetime.datetime) -> int:
    """For every hold whose last probe (or start) is ICI_PUMP_AUTH_RETRY_MINUTES
    old: let its oldest held delivery through as the probe, due now (the sweep
    enqueues it with the others). Returns how many."""
    due = now - datetime.timedelta(minutes=settings.ICI_PUMP_AUTH_RETRY_MINUTES)
    holds = CredentialHold.objects.filter(since__isnull=False).filter(
        Q(last_probe_at__lte=due) | Q(last_probe_at__isnull=True, since__lte=due)
    )
    started = 0
    for biller_id in holds.values_list("biller_id", flat=True):
        started += _probe_start(biller_id=biller_id, now=now)
    return started


def _probe_start(*, biller_id: int, now: datetime.datetime) -> int:
    with transaction.atomic():
        hold = (
            CredentialHold.objects.select_for_update()
            .filter(biller_id=biller_id, since__isnull=False)
            .first()
        )
        if hold is None:
            return 0
        if (
            hold.probe_id is not None
            and Delivery.objects.filter(
                pk=hold.probe_id, held=False, status__in=HELD_STATUSES
            ).exists()
        ):
            return 0  # the last probe is still on its way (a retry, a read-back)
        probe = (
            Delivery.objects.filter(biller_id=biller_id, held=True, status__in=HELD_STATUSES)
            .order_by("created_at", "pk")
            .first()
        )
        if probe is None:
            hold.last_probe_at = now
            hold.probe = None
            hold.save(update_fields=["last_probe_at", "probe", "updated_at"])
            return 0
        Delivery.objects.filter(pk=probe.pk).update(
            held=False, next_attempt_at=now, enqueued_at=None, updated_at=now
        )
        hold.probe = probe
        hold.last_probe_at = now
        hold.held = held_count(biller_id=biller_id)
        hold.save()
    return 1  # due now: the sweep that started it enqueues it


def credential_probe_settle(lease: Lease) -> int:
    """After a probe's step: a partner call it made that was answered, and not
    with 401/403 (a success, or a refusal of something else), proves the
    credentials good: the hold lifts. Returns how many deliveries it released."""
    delivery = lease.delivery
    last = (
        DeliveryAttempt.objects.filter(delivery_id=delivery.pk)
        .order_by("-started_at", "-id")
        .values("outcome", "error_code")
        .first()
    )
    if last is None or last["error_code"] == ErrorCode.PARTNER_AUTH_FAILED:
        return 0
    if last["outcome"] not in (Outcome.SUCCESS, Outcome.REJECTED):
        return 0
    return credential_hold_release(
        biller_id=delivery.biller_id, why="the partner accepted the credentials (probe)"
    )
