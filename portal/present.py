"""How the portal puts the Data Pump's facts in words a biller understands, and
the activity chart's geometry (an SVG drawn by the template, no JavaScript).

Partner text (an attempt's message, a delivery's last error) goes through
`Scrubber`, which blanks the biller's partner secrets wherever they appear: the
connectors already redact what they record; this is the second lock.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats, timezone

from payments.models import (
    AttemptKind,
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Reversal,
)
from payments.nacha import RETURN_CODES
from portal.selectors import OUTCOMES, Day

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


_STEP_WHAT = {
    AttemptKind.SNAPSHOT: "Read the invoice at {partner} before sending (to check it later)",
    AttemptKind.READ_BACK: "Read the invoice back at {partner} to see whether the {noun} arrived",
}

_OUTCOME_WORDS = {
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


# -- the activity chart -----------------------------------------------------------

OUTCOME_LABELS = {
    "posted": "Posted",
    "pending": "Pending",
    "review": "Review",
    "rejected": "Rejected",
    "failed": "Failed",
    "reversed": "Reversed",
}
OUTCOME_COLOURS = {
    "posted": "#1b7f3b",
    "pending": "#7b8da3",
    "review": "#d49a00",
    "rejected": "#b3261e",
    "failed": "#5c1410",
    "reversed": "#6a4c93",
}

WIDTH, HEIGHT = 800, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 28


@dataclass(frozen=True)
class Segment:
    outcome: str
    label: str
    colour: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    day: datetime.date
    x: float
    width: float
    title: str
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    plot_height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_labels: list[Tick]
    legend: list[tuple[str, str, str]]  # (outcome, label, colour)
    total: int


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def activity_chart(days: list[Day]) -> Chart:
    """Bars stacked by outcome (posted at the bottom), one per day, scaled to a
    round maximum; a y tick at 0, half and the maximum; a day label every few bars."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    top = nice_ceiling(max((d.total for d in days), default=0))
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.72, 1.0)
    bars = []
    for n, day in enumerate(days):
        y = float(base)
        segments = []
        for outcome in OUTCOMES:
            count = day.counts.get(outcome, 0)
            if not count:
                continue
            height = plot_h * count / top
            y -= height
            segments.append(
                Segment(
                    outcome=outcome,
                    label=OUTCOME_LABELS[outcome],
                    colour=OUTCOME_COLOURS[outcome],
                    count=count,
                    y=round(y, 2),
                    height=round(height, 2),
                )
            )
        parts = ", ".join(f"{s.count} {s.label.lower()}" for s in segments)
        title = f"{day.day:%a %Y-%m-%d}: {_payments(day.total)}" + (f" ({parts})" if parts else "")
        bars.append(
            Bar(
                day=day.day,
                x=round(LEFT + n * slot + (slot - bar_w) / 2, 2),
                width=round(bar_w, 2),
                title=title,
                segments=segments,
            )
        )
    y_ticks = [
        Tick(position=round(base - plot_h * value / top, 2), label=str(value))
        for value in sorted({0, top // 2 if top >= 2 else 0, top})
    ]
    every = max(1, math.ceil(len(days) / 10))
    x_labels = [
        Tick(position=round(LEFT + n * slot + slot / 2, 2), label=f"{day.day:%b} {day.day.day}")
        for n, day in enumerate(days)
        if (len(days) - 1 - n) % every == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=base,
        plot_height=plot_h,
        bars=bars,
        y_ticks=y_ticks,
        x_labels=x_labels,
        legend=[(o, OUTCOME_LABELS[o], OUTCOME_COLOURS[o]) for o in OUTCOMES],
        total=sum(d.total for d in days),
    )


def _payments(n: int) -> str:
    return f"{n} payment" if n == 1 else f"{n} payments"


@dataclass(frozen=True)
class TableRow:
    day: datetime.date | None  # None: the totals row
    cells: list[int]  # in OUTCOMES order
    total: int
    amount: Decimal


def activity_table(days: list[Day]) -> tuple[list[TableRow], TableRow]:
    """The chart's numbers as rows (newest day first) and a totals row."""
    rows = [
        TableRow(d.day, [d.counts.get(o, 0) for o in OUTCOMES], d.total, d.amount)
        for d in reversed(days)
    ]
    totals = TableRow(
        None,
        [sum(r.cells[i] for r in rows) for i in range(len(OUTCOMES))],
        sum(r.total for r in rows),
        sum((r.amount for r in rows), start=Decimal(0)),
    )
    return rows, totals
