"""How the portal puts the Data Pump's facts in words a biller understands: a
delivery's state and its timeline, times, and the rows of the payment history.

Partner text (an attempt's message, a delivery's last error) goes through
`Scrubber`, which blanks the biller's partner secrets wherever they appear: the
connectors already redact what they record; this is the second lock.
"""

import datetime
import uuid
from dataclasses import dataclass

from django.urls import reverse
from django.utils import formats, timezone

from payments.models import (
    AttemptKind,
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    PaymentMethod,
    PaymentStatus,
    Reversal,
    ReversalKind,
    ReversalStatus,
)
from payments.nacha import RETURN_CODES

DATE_FORMAT = "Y-m-d H:i T"  # the templates use the same


def when(value: datetime.datetime | None) -> str:
    return formats.date_format(timezone.localtime(value), DATE_FORMAT) if value else ""


class Scrubber:
    """Partner text with the biller's secrets blanked (`partners.selectors.biller_redactor`)."""

    def __init__(self, redactor):
        self._redactor = redactor

    def __call__(self, text: str) -> str:
        return self._redactor.text(text or "")


# -- a delivery and its attempts --------------------------------------------------


@dataclass(frozen=True)
class Summary:
    tone: str  # a status class of base.html: posted, pending, review, rejected, failed
    headline: str
    detail: str = ""


@dataclass(frozen=True)
class Step:
    """One partner call, in the timeline."""

    at: datetime.datetime
    what: str
    outcome: str  # success, rejected, not_sent, unknown, running, interrupted
    outcome_words: str
    status_code: int | None
    duration_ms: float | None
    receipt_number: str
    message: str

    @property
    def duration(self) -> str:
        if self.duration_ms is None:
            return ""
        if self.duration_ms >= 1000:
            return f"{self.duration_ms / 1000:.1f} s"
        return f"{self.duration_ms:.0f} ms"


def reversal_noun(reversal: Reversal | None) -> str:
    return reversal.get_kind_display() if reversal is not None else "reversal"


def delivery_summary(delivery: Delivery | None, *, noun: str, scrub: Scrubber) -> Summary:
    """Where a delivery stands, for biller staff. `noun`: "payment", "Void", ..."""
    noun = noun if noun == "payment" else noun.lower()
    if delivery is None:
        return Summary("pending", f"The {noun} has not been handed to the partner.")
    partner, status, error = delivery.partner, delivery.status, scrub(delivery.last_error)
    if status == DeliveryStatus.POSTED:
        detail = ""
        if delivery.reads:
            detail = (
                f"{partner}'s answer to the post was lost; reading the invoice back at "
                f"{partner} confirmed the {noun} arrived."
            )
        return Summary("posted", f"Posted to {partner} on {when(delivery.finished_at)}.", detail)
    if delivery.held and status in (DeliveryStatus.PENDING, DeliveryStatus.RECONCILING):
        return Summary(
            "pending",
            f"Waiting: {partner} refused the biller's credentials, so nothing was applied; "
            f"it is sent once they work again.",
            error,
        )
    if status == DeliveryStatus.PENDING:
        if not delivery.attempts:
            due = when(delivery.next_attempt_at)
            return Summary("pending", f"Waiting to be sent to {partner} (from {due}).")
        return Summary(
            "pending",
            f"Waiting: {partner} could not be reached or did not answer; next try at "
            f"{when(delivery.next_attempt_at)}.",
            f"Tries so far: {delivery.attempts}. {error}".strip(),
        )
    if status == DeliveryStatus.IN_FLIGHT:
        return Summary("pending", f"Being sent to {partner} now.")
    if status == DeliveryStatus.RECONCILING:
        return Summary(
            "pending",
            f"Waiting: {partner} did not answer, so the hub is reading the invoice back at "
            f"{partner} to see whether the {noun} arrived; next check at "
            f"{when(delivery.next_attempt_at)}.",
            f"It is never sent twice without that check. {error}".strip(),
        )
    if status == DeliveryStatus.REJECTED:
        return Summary(
            "rejected",
            f"Rejected by {partner} on {when(delivery.finished_at)}: it was not applied there.",
            error,
        )
    if status == DeliveryStatus.REVIEW:
        return Summary(
            "review",
            "Needs review by support: the hub cannot tell whether "
            f"{partner} applied the {noun}, and will not send it again on its own.",
            error,
        )
    if status == DeliveryStatus.DEAD:
        return Summary(
            "failed",
            f"Failed: {partner} could not be reached after {delivery.attempts} tries. "
            "Support can send it again.",
            error,
        )
    if status == DeliveryStatus.CANCELLED:
        return Summary(
            "reversed", f"Not sent: the payment was reversed before it reached {partner}."
        )
    return Summary("pending", delivery.get_status_display())


_STEP_WHAT: dict[str, str] = {
    AttemptKind.SNAPSHOT: "Read the invoice at {partner} before sending (to check it later)",
    AttemptKind.READ_BACK: "Read the invoice back at {partner} to see whether the {noun} arrived",
}

_OUTCOME_WORDS: dict[str, str] = {
    AttemptOutcome.REJECTED: "Refused by {partner}",
    AttemptOutcome.NOT_SENT: "Not sent: {partner} could not be reached",
    AttemptOutcome.UNKNOWN: "No clear answer: it may or may not have arrived",
}


def delivery_steps(delivery: Delivery | None, *, noun: str, scrub: Scrubber) -> list[Step]:
    """The delivery's partner calls, oldest first (attempts prefetched)."""
    if delivery is None:
        return []
    noun = noun if noun == "payment" else noun.lower()
    partner = delivery.partner
    attempts: list[DeliveryAttempt] = list(delivery.attempt_rows.all())
    steps = []
    for n, attempt in enumerate(attempts):
        if attempt.kind == AttemptKind.POST:
            what = f"Sent the {noun} to {partner}"
        else:
            what = _STEP_WHAT[attempt.kind].format(partner=partner, noun=noun)
        outcome = attempt.outcome
        if outcome == AttemptOutcome.SUCCESS:
            words = "Accepted" if attempt.kind == AttemptKind.POST else "Read"
        elif outcome:
            words = _OUTCOME_WORDS[outcome].format(partner=partner)
        elif n == len(attempts) - 1 and delivery.lease_token is not None:
            outcome, words = "running", "In progress"
        else:
            outcome, words = "interrupted", "Interrupted: no answer was recorded"
        steps.append(
            Step(
                at=attempt.started_at,
                what=what,
                outcome=outcome,
                outcome_words=words,
                status_code=attempt.status_code,
                duration_ms=attempt.duration_ms,
                receipt_number=scrub(attempt.receipt_number),
                message=scrub(attempt.message),
            )
        )
    return steps


def return_code_meaning(code: str | None) -> str:
    return RETURN_CODES.get(code, "") if code else ""


# -- the payment history's rows -------------------------------------------------

_REVERSAL_LABELS = {
    (kind, status): f"{kind_label}: {status_label.lower()}"
    for kind, kind_label in ReversalKind.choices
    for status, status_label in ReversalStatus.choices
}


_NO_GUID = str(uuid.UUID(int=0))
_STATUS_LABELS = dict(PaymentStatus.choices)
_METHOD_LABELS = {PaymentMethod.CARD: "Card", PaymentMethod.BANK: "Bank"}


def history_rows_format(rows: list[dict], *, bid: int) -> None:
    """What the page shows of each row, formatted here rather than by template
    filters: 50 rows of filters and {% url %} were a quarter of the page's time."""
    url = reverse("portal:payment", kwargs={"bid": bid, "payment_guid": _NO_GUID})
    for row in rows:
        row["url"] = url.replace(_NO_GUID, str(row["payment_guid"]))
        row["paid"] = timezone.localtime(row["paid_at"]).strftime("%Y-%m-%d %H:%M")
        row["amount_text"] = f"{row['amount']:,.2f}"
        row["fee_text"] = f"{row['service_fee']:,.2f}"
        row["method_label"] = _METHOD_LABELS.get(row["method"], row["method"])
        row["status_label"] = _STATUS_LABELS.get(row["status"], row["status"])
        if row["reversal__kind"]:
            row["reversal_label"] = _REVERSAL_LABELS.get(
                (row["reversal__kind"], row["reversal__status"]), row["reversal__kind"]
            )
