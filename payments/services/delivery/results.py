"""What the Data Pump's steps return: the lease a claim takes, and what one run
of a delivery did (the task's result, and what the tests read)."""

import datetime
import uuid
from dataclasses import dataclass
from enum import StrEnum

from payments.models import Delivery
from payments.services.breaker import BreakerState


@dataclass
class Lease:
    delivery: Delivery
    token: uuid.UUID
    breaker: BreakerState
    # The biller's credentials were refused since then (a CredentialHold), and
    # whether this delivery is the one let through to try them again.
    hold_since: datetime.datetime | None = None
    probe: bool = False


class Result(StrEnum):
    """What one run of a delivery did. The four marked "+ detail" are returned as
    a `Detailed`, which adds what varies (the partner, the wait, the outcome)."""

    POSTED = "posted"
    REJECTED = "rejected"
    DEAD_LETTER = "dead letter"
    NOT_SENT = "not sent"  # + detail: the retry's wait
    RECONCILING = "unknown: reconciling"
    REVIEW_NO_SNAPSHOT = "review: unknown outcome, no snapshot"
    CONFIRMED = "posted (confirmed by read-back)"
    NOT_APPLIED = "not applied: posting again"
    READ_BACK_RETRY = "read-back failed: try again later"
    REVIEW_READ_BACK_FAILED = "review: the read-back failed"
    REVIEW_MISMATCH = "review: the read-back does not match"
    NOT_DUE = "not due, taken, or done"
    BUSY = "waiting: another delivery of this invoice is busy"
    HELD = "held"  # + detail: whose breaker is open
    CREDENTIALS_HELD = "held for the biller's credentials"  # + detail: since when
    CREDENTIALS_CHANGED = "refused with credentials replaced since: trying again"
    LEASE_LOST = "lease lost before the post (a slow read): left to its new holder"
    RECOVERED_RECONCILING = "recovered: the post's outcome is unknown, reconciling"
    RECOVERED = "recovered"  # + detail: how the lost worker's post had ended
    SNAPSHOT_FAILED = "the read before the post failed"  # + detail: what that led to

    @property
    def result(self) -> "Result":
        """Itself, so that any RunResult has a `.result`."""
        return self


_SEPARATOR = {Result.SNAPSHOT_FAILED: "; "}


class Detailed(str):
    """A Result with its detail, as one string: "held: the IMT breaker is open".
    `.result` is the Result, `.detail` what was added."""

    result: Result
    detail: str

    def __new__(cls, result: Result, detail: str) -> "Detailed":
        said = super().__new__(cls, f"{result}{_SEPARATOR.get(result, ': ')}{detail}")
        said.result = result
        said.detail = detail
        return said

    def __reduce__(self):
        # A task's result is pickled on its way to django-q2's monitor.
        return (Detailed, (self.result, self.detail))


RunResult = Result | Detailed
