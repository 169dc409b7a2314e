"""The hub's process-local metrics: what a process saw happen (RTDR lookups and
partner calls), counted where the service records the outcome.

Each process keeps its own counts. Under gunicorn with several workers (or a
`qcluster` beside it on one machine), set PROMETHEUS_MULTIPROC_DIR to an empty
directory shared by those processes (README, "Health and metrics"): every
process then writes its counts there and `/metrics` adds them up. The figures
read from the database are not here: icintegrations.health reads them when
`/metrics` is scraped.
"""

import os

from prometheus_client import Counter, Histogram

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # A qcluster started before gunicorn (whose start creates it too) would
    # otherwise fail its first count.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# Seconds: a lookup served from the hub takes milliseconds, one that calls the
# partner up to the read timeout (10 s by default).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

RTDR_LOOKUPS = Counter(
    "ici_rtdr_lookups",
    "RTDR invoice lookups answered by this process, by outcome: served, stale (the last "
    "known invoice, the partner failing) or the error code answered.",
    ["outcome"],
)
RTDR_LOOKUP_SECONDS = Histogram(
    "ici_rtdr_lookup_seconds",
    "Time to answer an RTDR invoice lookup, by outcome.",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)
PARTNER_CALLS = Counter(
    "ici_partner_calls",
    "Calls made to partners by this process, by partner, operation and outcome "
    "(success, rejected, not_sent, unknown).",
    ["partner", "operation", "outcome"],
)
PARTNER_CALL_SECONDS = Histogram(
    "ici_partner_call_seconds",
    "Duration of the partner calls that reached the network, by partner and operation.",
    ["partner", "operation"],
    buckets=LATENCY_BUCKETS,
)


def rtdr_lookup_observe(*, outcome: str, seconds: float) -> None:
    RTDR_LOOKUPS.labels(outcome=outcome).inc()
    RTDR_LOOKUP_SECONDS.labels(outcome=outcome).observe(seconds)


def partner_call_observe(
    *, partner: str, operation: str, outcome: str, duration_ms: float | None
) -> None:
    """One partner call's outcome; `duration_ms` is None when no request left."""
    PARTNER_CALLS.labels(partner=partner, operation=operation, outcome=outcome).inc()
    if duration_ms is not None:
        PARTNER_CALL_SECONDS.labels(partner=partner, operation=operation).observe(
            duration_ms / 1000
        )
