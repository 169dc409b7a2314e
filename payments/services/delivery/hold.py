"""Held for the biller's credentials: a 401 or 403 means the partner applied
nothing, so the delivery is never rejected for it. It is held (Delivery.held,
untried, not counted as an attempt, no backoff) with every other delivery of
the biller, behind one CredentialHold row, until the hold lifts (`release`).
Other billers of the same partner go on.

A claim of a held biller's delivery parks it without calling the partner,
unless it is the hold's probe: the one delivery the sweep lets through to try
the credentials again.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from payments.models import CredentialHold, Delivery, DeliveryStatus
from payments.services.delivery.results import Detailed, Lease, Result, RunResult
from payments.services.delivery.state import delivery_transition

HELD_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RECONCILING)


def held_count(*, biller_id: int) -> int:
    return Delivery.objects.filter(biller_id=biller_id, held=True, status__in=HELD_STATUSES).count()


def _said(since: datetime.datetime) -> Detailed:
    return Detailed(Result.CREDENTIALS_HELD, f"refused since {since:%Y-%m-%d %H:%M:%S} UTC")


def delivery_hold_check(lease: Lease) -> Lease | RunResult:
    """A leased delivery of a biller whose credentials are held: the probe goes on,
    any other is parked (its lease given back, untried). The hold row is locked,
    so a release that commits first is seen, and one that comes after unparks it."""
    delivery = lease.delivery
    with transaction.atomic():
        hold = (
            CredentialHold.objects.select_for_update()
            .filter(biller_id=delivery.biller_id, since__isnull=False)
            .first()
        )
        if hold is None:  # lifted meanwhile
            lease.hold_since = None
            return lease
        assert hold.since is not None  # the filter
        if hold.probe_id == delivery.pk:
            lease.probe = True
            return lease
        Delivery.objects.filter(pk=delivery.pk, lease_token=lease.token).update(
            held=True,
            status=(
                DeliveryStatus.PENDING
                if delivery.status == DeliveryStatus.IN_FLIGHT
                else delivery.status
            ),
            lease_token=None,
            lease_until=None,
            enqueued_at=None,
            updated_at=timezone.now(),
        )
        hold.held = held_count(biller_id=delivery.biller_id)
        hold.save(update_fields=["held", "updated_at"])
    return _said(hold.since)


def delivery_credentials_refused(
    delivery: Delivery,
    lease: Lease | None,
    *,
    message: str,
    called_at: datetime.datetime | None,
) -> RunResult:
    """The partner answered 401/403 to a post or a read-back of this delivery: hold
    it (and so the biller), as it was (pending, or reconciling), counting nothing.
    A call that began before the hold was last lifted used the credentials
    replaced since: the delivery is simply taken again."""
    now = timezone.now()
    status = (
        DeliveryStatus.RECONCILING
        if delivery.status == DeliveryStatus.RECONCILING
        else DeliveryStatus.PENDING
    )
    with transaction.atomic():
        CredentialHold.objects.get_or_create(
            biller_id=delivery.biller_id, defaults={"partner": delivery.partner}
        )
        hold = CredentialHold.objects.select_for_update().get(biller_id=delivery.biller_id)
        stale = (
            hold.since is None
            and hold.released_at is not None
            and called_at is not None
            and called_at < hold.released_at
        )
        if stale:
            delivery_transition(
                delivery, lease, status, next_at=now,
                error=f"Credentials refused, then replaced: trying again ({message})",
            )  # fmt: skip
            return Result.CREDENTIALS_CHANGED
        if hold.since is None:
            hold.since = now
            hold.last_probe_at = None
        if hold.probe_id == delivery.pk:
            hold.probe = None
        hold.last_error = message[:500]
        delivery_transition(
            delivery, lease, status, held=True,
            error=f"Held: the partner refused the biller's credentials ({message})",
        )  # fmt: skip
        hold.held = held_count(biller_id=delivery.biller_id)
        hold.save()
    return _said(hold.since)
