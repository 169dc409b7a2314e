"""How long the record of real-time partner calls is kept.

A PartnerCall row is written for every RTDR lookup and bill call: what a
Solutions Engineer reads when lookups fail, and what the operations page counts
(its longest window is a week). They are deleted ICI_PARTNER_CALL_KEEP_DAYS
after the call, in batches, so that the table does not grow without end. The
Data Pump's records of payment posts (DeliveryAttempt) are not touched: they are
the audit trail of money.
"""

import datetime

from django.conf import settings
from django.utils import timezone

from partners.models import PartnerCall

BATCH = 5_000


def partner_calls_prune(*, batches: int = 100) -> int:
    """Delete the calls older than the setting, `batches` x 5,000 at most; how many."""
    days = settings.ICI_PARTNER_CALL_KEEP_DAYS
    if days <= 0:
        return 0
    cutoff = timezone.now() - datetime.timedelta(days=days)
    deleted = 0
    for _ in range(batches):
        ids = list(
            PartnerCall.objects.filter(created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        deleted += PartnerCall.objects.filter(pk__in=ids).delete()[0]
    return deleted
