"""The sweep: a task for every delivery that is due and has none."""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from payments.models import CircuitBreaker, Delivery
from payments.services.delivery.claim import delivery_task_enqueue, due_q
from payments.services.delivery.release import credential_probes_start


def deliveries_sweep(*, limit: int = 1000) -> int:
    """Enqueue a task for every delivery that is due and not leased (retries,
    read-backs, held deliveries whose breaker closed, deliveries whose task was
    lost with a killed worker or a Redis restart), and the probe of every
    credential hold whose time has come. Returns how many."""
    now = timezone.now()
    credential_probes_start(now=now)  # each probe is due now: enqueued below
    overdue = now - datetime.timedelta(seconds=settings.ICI_PUMP_REQUEUE_SECONDS)
    # A partner whose breaker is open gets no tasks until it closes: they would
    # only be held again, and pile up in the queue in front of everyone else's.
    held = CircuitBreaker.objects.filter(open_until__gt=now).values_list("partner", flat=True)
    due = list(
        Delivery.objects.filter(due_q(now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=overdue))
        .exclude(partner__in=list(held))
        .order_by("next_attempt_at")
        .values_list("pk", "request_id")[:limit]
    )
    for pk, request_id in due:
        delivery_task_enqueue(pk, request_id=request_id)
    return len(due)
