"""The activity page's chart: bars of payments per day stacked by outcome, as
geometry for an SVG the template draws (no JavaScript), and the same numbers
as a table.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from portal.selectors.activity import OUTCOMES, Day

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
