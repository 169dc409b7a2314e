"""One run of a delivery: claim it, then take it one step (a post, or a read-back)."""

from payments.models import DeliveryStatus
from payments.services.delivery.claim import delivery_claim
from payments.services.delivery.post import delivery_post
from payments.services.delivery.reconcile import delivery_reconcile
from payments.services.delivery.release import credential_probe_settle
from payments.services.delivery.results import Lease, RunResult


def delivery_run(delivery_id: int) -> RunResult:
    """Claim one delivery and take it one step (a post, or a read-back). Returns
    what happened, for the task's result and for tests."""
    lease = delivery_claim(delivery_id)
    if not isinstance(lease, Lease):
        return lease
    delivery = lease.delivery
    if delivery.status == DeliveryStatus.RECONCILING:
        result = delivery_reconcile(lease)
    else:
        result = delivery_post(lease)
    if lease.probe:  # the one try of a biller's held credentials
        credential_probe_settle(lease)
    return result
