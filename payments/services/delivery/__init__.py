"""The Data Pump: deliver a payment to its partner exactly once.

The Delivery row is the truth, the django-q2 task only a trigger (a lost task is
found again by `deliveries_sweep`). A worker claims a due delivery and takes a
lease with one conditional UPDATE (or, for a delivery whose lease ran out,
`select_for_update(skip_locked=True)` and a recovery); every partner call is a
DeliveryAttempt row written before the call and completed after it. Outcomes:

- success: posted, done;
- rejected: final, visible to operators and the payer site;
- not sent: retried with exponential backoff and jitter, then dead-lettered;
- refused credentials (401/403): nothing was applied; held for the biller's
  credentials, not counted (`hold`), until the hold lifts (`release`);
- unknown (sent, no usable answer; or a worker that died mid-call): never
  re-posted blindly. The invoice is read back and its balance due (or paid
  amount) compared with the snapshot taken before the post: changed by the
  payment's amount means posted, unchanged means not applied (posted again),
  anything else, or no answer after ICI_PUMP_MAX_READS reads, goes to review.

Only one delivery per invoice is in flight or reconciling at a time (a partial
unique constraint), so a change in the invoice is the work of that delivery's
payment or of someone outside the hub, never of a sibling delivery.

One module per step: `claim` (enqueue, claim, lease, recovery), `post` (the
snapshot and the post), `reconcile` (the read-back), `state` (attempt rows and
transitions), `sweep`, `hold` and `release` (the credential hold); `run` takes
a delivery one step; `results` holds what they return. This package's names
are the pump's interface.
"""

from payments.services.delivery.claim import (
    BUSY_WAIT,
    delivery_claim,
    delivery_enqueue,
    delivery_request_id,
    delivery_task_enqueue,
    due_q,
)
from payments.services.delivery.post import (
    RTDR_SOURCES,
    delivery_post,
    payment_request,
    post_result_apply,
)
from payments.services.delivery.reconcile import delivery_reconcile
from payments.services.delivery.release import credential_hold_release, credential_probes_start
from payments.services.delivery.results import Detailed, Lease, Result, RunResult
from payments.services.delivery.run import delivery_run
from payments.services.delivery.state import PAYMENT_STATUS, backoff_seconds, delivery_transition
from payments.services.delivery.sweep import deliveries_sweep

__all__ = [
    "BUSY_WAIT",
    "PAYMENT_STATUS",
    "RTDR_SOURCES",
    "Detailed",
    "Lease",
    "Result",
    "RunResult",
    "backoff_seconds",
    "credential_hold_release",
    "credential_probes_start",
    "deliveries_sweep",
    "delivery_claim",
    "delivery_enqueue",
    "delivery_post",
    "delivery_reconcile",
    "delivery_request_id",
    "delivery_run",
    "delivery_task_enqueue",
    "delivery_transition",
    "due_q",
    "payment_request",
    "post_result_apply",
]
