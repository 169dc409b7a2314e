"""The RTDR benchmark: see benchmarks/README.md.

    .venv/bin/python -m benchmarks.rtdr [--duration 10] [--connections 16] [--runs 3]
        [--requests 400] [--database-url postgres://...] [--settings MODULE]
        [--sandbox-nagle] [--keep]

Part 1, throughput: gunicorn (2 sync workers) serves both a bare DRF view and
the RTDR lookup of a fresh invoice (refreshed now, option 64 Off, so no partner
call); wrk hits each in turn, interleaved within every run so that the
machine's noise hits both. Target: lookup req/s >= 60% of the bare view's, and
lookup p99 < 25 ms.

Part 2, overhead: option 64 On, so every lookup calls the IMT sandbox (latency
0). One client, one request at a time: the sandbox's invoice detail directly
(the partner's own time) and the hub's lookup of the same invoice, alternated.
Target: median(hub) - median(partner) < 5 ms.

Everything runs on a fresh temporary SQLite database, or on the PostgreSQL
database given with --database-url (migrated, the presets loaded, the bench
rows updated in place). gunicorn and the sandbox are stopped on exit, also on
error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMT_BID, PEORIA_BID = 1367, 2249
INVOICE = "IMT0000001"  # also one of the IMT sandbox's demo invoices
RATIO_TARGET = 0.60
P99_TARGET_MS = 25.0
OVERHEAD_TARGET_MS = 5.0
WARMUP_SECONDS = 3
# Preset secrets come from these variables: empty, so that no real credential
# (from the environment or a local .env) ever lands in a benchmark database.
PRESET_SECRET_VARIABLES = ("ICI_PEORIA_API_KEY", "ICI_PEORIA_RTDR_KEY", "ICI_IMT_INTEGRATOR_ID")

# The sequential part uses a second API client, so that it does not share the wrk
# client's throttle counters.


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, name: str) -> None:
    """SIGTERM to the process we started, then SIGKILL to its own group if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop on SIGTERM; killing its process group {proc.pid}")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_gunicorn(env: dict, port: int, logfile: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn",
        "-w", "2", "-k", "sync",
        "-b", f"127.0.0.1:{port}",
        "--log-level", "warning",
        "--error-logfile", str(logfile),
        "icintegrations.wsgi:application",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


def start_sandbox(credential: str, *, nagle: bool):
    """The IMT sandbox in this process (a thread), on a free port, latency 0.

    partners/sandbox answers with two writes (headers, then body) on a socket
    with Nagle's algorithm on: the body then waits for the client's delayed ACK,
    ~40 ms on Linux, on every keep-alive request. A real partner's web server
    sets TCP_NODELAY, so the benchmark does too unless `nagle` is asked for.
    """
    from partners.sandbox import SandboxServer
    from partners.sandbox import server as sandbox_server

    sandbox_server._Handler.disable_nagle_algorithm = not nagle
    sandbox = SandboxServer(partner="imt", credential=credential, port=0)
    sandbox.set_faults(latency_ms=0)
    return sandbox.start()


def wait_http(url: str, proc: subprocess.Popen, logfile: Path, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{tail(logfile)}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s:\n{tail(logfile)}")


# --- wrk -----------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, *, duration: int, connections: int, headers=()) -> WrkResult:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=duration + 30
    ).stdout
    percentiles = {
        int(p): float(v) * _UNITS[unit]
        for p, v, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None or not {50, 90, 99} <= set(percentiles):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=errors.group(1).strip() if errors else "none",
    )


# --- the database ----------------------------------------------------------------


def prepare_database(sandbox_url: str, credential: str) -> tuple[str, str]:
    """Migrate, load the presets, create the API client and the fresh invoice, point
    the IMT biller at the sandbox with option 64 Off. Returns two API tokens: one for
    wrk, one for the sequential part (see THROTTLE NOTE)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from billers.models import Biller, Customer, Invoice, RefreshSource
    from billers.services.api_clients import api_client_create
    from partners.services.sandboxes import biller_point_at_sandbox

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_biller_preset", "--activate", stdout=io.StringIO(), stderr=io.StringIO())
    tokens = tuple(
        api_client_create(name=name, bids=[IMT_BID, PEORIA_BID], replace=True)[1]
        for name in ("rtdr-benchmark-wrk", "rtdr-benchmark-sequential")
    )
    biller = Biller.objects.get(bid=IMT_BID)
    biller_point_at_sandbox(biller=biller, sandbox_url=sandbox_url, credential=credential)
    customer, _ = Customer.objects.update_or_create(
        biller=biller,
        account_number="C0001",
        defaults=dict(
            name="Benchmark Customer", address1="8401 W Monroe St", city="Peoria",
            state="AZ", zip="85345",
        ),
    )  # fmt: skip
    Invoice.objects.update_or_create(
        biller=biller,
        invoice_number=INVOICE,
        defaults=dict(
            customer=customer,
            invoice_date=datetime.date(2026, 1, 1),
            due_date=datetime.date(2026, 2, 20),
            total_amount_due=Decimal("100.00"),
            balance_due=Decimal("100.00"),
            past_due=Decimal("0.00"),
            refreshed_at=timezone.now(),
            refreshed_via=RefreshSource.FILE,
        ),
    )
    option_64_set(False)
    log(
        f"database ready: {connection.vendor} {connection.settings_dict['NAME']}, "
        f"biller {IMT_BID} ({biller.partner}), invoice {INVOICE}, option 64 Off"
    )
    connection.close()
    return tokens


def option_64_set(enabled: bool) -> None:
    from billers.catalog import OptionId
    from billers.models import Biller, BillerOption

    biller = Biller.objects.get(bid=IMT_BID)
    override = OptionId.RTDR_OVERRIDE_SIX_HOUR_CHECK
    if not BillerOption.objects.filter(biller=biller, option_id=override).update(enabled=enabled):
        BillerOption.objects.create(biller=biller, option_id=override, enabled=enabled)


def partner_calls(after_id: int = 0) -> tuple[int, int, list[float]]:
    """The IMT biller's PartnerCall rows after `after_id`: how many, the last id, and the
    partner times (ms) the hub recorded on the successful refreshes."""
    from django.db.models import Max

    from partners.models import PartnerCall

    rows = PartnerCall.objects.filter(biller__bid=IMT_BID, id__gt=after_id)
    last_id = rows.aggregate(last=Max("id"))["last"] or after_id
    durations = rows.filter(
        outcome="success", operation="invoice_refresh", duration_ms__isnull=False
    ).values_list("duration_ms", flat=True)
    return rows.count(), last_id, list(durations)


# --- measuring ---------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed_get(session, url: str, headers: dict) -> float:
    started = time.perf_counter()
    response = session.get(url, headers=headers, timeout=10)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return elapsed


def sequential(session, pairs: list[tuple[str, dict]], count: int, warmup: int) -> list[list]:
    """Time `count` rounds of the given requests, one at a time, alternating their order."""
    times: list[list[float]] = [[] for _ in pairs]
    for i in range(warmup + count):
        order = range(len(pairs)) if i % 2 == 0 else reversed(range(len(pairs)))
        for j in order:
            url, headers = pairs[j]
            elapsed = timed_get(session, url, headers)
            if i >= warmup:
                times[j].append(elapsed)
    return times


def sandbox_lookups(sandbox) -> int:
    return sandbox.ledger.requests.get("lookup", 0)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--requests", type=int, default=400, help="sequential requests per kind (overhead)"
    )
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL URL; default: a fresh temporary SQLite"
    )
    parser.add_argument(
        "--sandbox-nagle",
        action="store_true",
        help="leave Nagle's algorithm on in the sandbox, as partners/sandbox has it (~40 ms "
        "per keep-alive answer); default: TCP_NODELAY, like a real partner's server",
    )
    parser.add_argument(
        "--settings",
        default="benchmarks.settings",
        help="the settings module (importable from the project root or PYTHONPATH), to "
        "measure a variant against the same run; default: benchmarks.settings",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed")

    # SIGTERM unwinds like Ctrl-C, so that the finally blocks stop what we started.
    signal.signal(signal.SIGTERM, _interrupt)

    tmp = Path(tempfile.mkdtemp(prefix="ici-bench-rtdr-"))
    credential = "bench-" + secrets.token_hex(12)  # the sandbox's, made up for this run
    os.environ.update(
        {
            "ICI_MODE": "demo",
            "DJANGO_SETTINGS_MODULE": args.settings,
            "ICI_VAR_DIR": str(tmp),
            "DATABASE_URL": args.database_url,
            **{name: "" for name in PRESET_SECRET_VARIABLES},
        }
    )
    for name in ("DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "ICI_LOG_LEVEL"):
        os.environ.pop(name, None)
    env = dict(os.environ)
    started = time.monotonic()
    gunicorn_log = tmp / "gunicorn.log"
    failed = True
    try:
        with ExitStack() as stack:
            sandbox = start_sandbox(credential, nagle=args.sandbox_nagle)
            stack.callback(sandbox.stop)
            nagle = "on, as in partners/sandbox" if args.sandbox_nagle else "off (TCP_NODELAY)"
            log(f"IMT sandbox in-process on {sandbox.url} (latency 0, Nagle {nagle})")

            wrk_token, sequential_token = prepare_database(sandbox.url, credential)

            port = free_port()
            gunicorn = start_gunicorn(env, port, gunicorn_log)
            stack.callback(stop_process, gunicorn, "gunicorn")
            base = f"http://127.0.0.1:{port}"
            bare_url = f"{base}/bench/bare"
            lookup_url = f"{base}/api/v1/billers/{IMT_BID}/invoices/{INVOICE}"
            auth = {"Authorization": f"Bearer {wrk_token}"}
            sequential_auth = {"Authorization": f"Bearer {sequential_token}"}
            wait_http(bare_url, gunicorn, gunicorn_log)
            log(f"gunicorn -w 2 -k sync on {base}")
            results = run(args, sandbox, credential, bare_url, lookup_url, auth, sequential_auth)
            failed = False
    except KeyboardInterrupt:
        log("interrupted")
        failed = False  # nothing to investigate: remove the temporary directory
        return 130
    finally:
        if failed and gunicorn_log.exists() and gunicorn_log.stat().st_size:
            print(f"--- gunicorn log (last lines) ---\n{tail(gunicorn_log)}", file=sys.stderr)
        if args.keep or failed:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary(args, results, time.monotonic() - started)
    return 0


def run(args, sandbox, credential, bare_url, lookup_url, auth, sequential_auth) -> dict:
    import requests
    from django.db import connection

    session = requests.Session()
    session.trust_env = False
    answer = session.get(lookup_url, headers=auth, timeout=10)
    body = answer.json() if answer.status_code == 200 else {}
    if answer.status_code != 200 or body.get("stale") is not False:
        raise RuntimeError(f"the lookup answered {answer.status_code}: {answer.text[:300]}")
    _, last_call, _ = partner_calls()
    lookups_before = sandbox_lookups(sandbox)

    # Part 1: throughput, bare view and served lookup interleaved in every run.
    wrk = dict(duration=args.duration, connections=args.connections)
    auth_header = [f"Authorization: {auth['Authorization']}"]
    log(f"warm-up: {WARMUP_SECONDS} s of wrk on each endpoint")
    run_wrk(bare_url, duration=WARMUP_SECONDS, connections=args.connections)
    run_wrk(lookup_url, duration=WARMUP_SECONDS, connections=args.connections, headers=auth_header)
    runs = []
    for i in range(1, args.runs + 1):
        order = ("bare", "served") if i % 2 else ("served", "bare")
        pair = {}
        for kind in order:
            if kind == "bare":
                pair[kind] = run_wrk(bare_url, **wrk)
            else:
                pair[kind] = run_wrk(lookup_url, headers=auth_header, **wrk)
            r = pair[kind]
            log(
                f"run {i} {kind:6}: {r.rps:8.1f} req/s  p50 {r.p50_ms:6.2f} ms  "
                f"p99 {r.p99_ms:6.2f} ms  ({r.requests} requests, non-2xx {r.non_2xx}, "
                f"socket errors: {r.socket_errors})"
            )
        runs.append(pair)
        if any(r.non_2xx for r in pair.values()):
            log(f"WARNING: run {i} had non-2xx answers; its numbers are not valid")
    new_calls, last_call, _ = partner_calls(last_call)
    lookups_after = sandbox_lookups(sandbox)
    if new_calls or lookups_after != lookups_before:
        raise RuntimeError(
            "the served lookups called the partner: "
            f"{lookups_after - lookups_before} sandbox lookups, {new_calls} PartnerCall rows"
        )
    log("served phase made no partner call (sandbox ledger and PartnerCall unchanged)")

    # Part 2, with its own API client: see THROTTLE NOTE.
    # Sequential context (bare view, served lookup), then the partner call path.
    count, warmup = args.requests, 50
    log(f"sequential: {count} bare views and {count} served lookups, alternated")
    bare_seq, served_seq = sequential(
        session, [(bare_url, {}), (lookup_url, sequential_auth)], count=count, warmup=warmup
    )
    option_64_set(True)
    connection.close()
    # The web processes keep a biller's configuration for ICI_CONFIG_CACHE_SECONDS
    # (icintegrations.memo): wait for the change to reach them.
    from django.conf import settings as django_settings

    wait = django_settings.ICI_CONFIG_CACHE_SECONDS + 1
    log(f"waiting {wait:.0f} s for option 64 On to reach the web processes")
    time.sleep(wait)
    detail_url = f"{sandbox.url}/api/integration/invoice/{INVOICE}/detail"
    partner_headers = {"X-Integrator-ID": credential}
    _, last_call, _ = partner_calls()
    lookups_before = sandbox_lookups(sandbox)
    log(f"overhead: {count} sandbox details and {count} hub lookups (option 64 On), alternated")
    partner_seq, hub_seq = sequential(
        session,
        [(detail_url, partner_headers), (lookup_url, sequential_auth)],
        count=count,
        warmup=warmup,
    )
    new_calls, _, durations = partner_calls(last_call)
    lookups_after = sandbox_lookups(sandbox)
    hub_lookups = count + warmup
    if new_calls != hub_lookups or lookups_after - lookups_before != 2 * hub_lookups:
        raise RuntimeError(
            f"expected {hub_lookups} partner calls from the hub, got {new_calls} PartnerCall "
            f"rows and {lookups_after - lookups_before - hub_lookups} sandbox lookups"
        )
    connection.close()
    return dict(
        runs=runs,
        bare_seq=bare_seq,
        served_seq=served_seq,
        partner_seq=partner_seq,
        hub_seq=hub_seq,
        hub_partner_ms=durations,
        db_version=_db_version(),
    )


def _db_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    connection.close()
    return f"{connection.vendor} {version}"


def summary(args, results: dict, elapsed: float) -> None:
    runs = results["runs"]
    med = statistics.median
    bare_rps = med(r["bare"].rps for r in runs)
    served_rps = med(r["served"].rps for r in runs)
    served_p99 = med(r["served"].p99_ms for r in runs)
    ratio = served_rps / bare_rps
    ratios = [r["served"].rps / r["bare"].rps for r in runs]

    def seq(values):
        return med(values), percentile(values, 90), percentile(values, 99)

    partner, hub = results["partner_seq"], results["hub_seq"]
    overhead50 = med(hub) - med(partner)
    overhead90 = percentile(hub, 90) - percentile(partner, 90)
    diffs = [b - a for a, b in zip(partner, hub, strict=True)]
    cpu = _cpu_model()
    width = 78
    print("\n" + "=" * width)
    print(
        f"RTDR benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores "
        f"({cpu}), {platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"settings: {args.settings}; database: {results['db_version']}; gunicorn -w 2 -k sync; "
        f"wrk -t2 -c{args.connections} -d{args.duration}s x {args.runs} runs"
    )
    print("-" * width)
    print("Throughput (wrk)            req/s      p50 ms    p99 ms")
    for i, r in enumerate(runs, 1):
        for kind in ("bare", "served"):
            w = r[kind]
            label = f"run {i} {'bare DRF view' if kind == 'bare' else 'served lookup'}"
            print(f"  {label:24} {w.rps:9.1f}  {w.p50_ms:9.2f} {w.p99_ms:9.2f}")
    for kind, label in (("bare", "median bare DRF view"), ("served", "median served lookup")):
        rps = med(r[kind].rps for r in runs)
        p50 = med(r[kind].p50_ms for r in runs)
        p99 = med(r[kind].p99_ms for r in runs)
        print(f"  {label:24} {rps:9.1f}  {p50:9.2f} {p99:9.2f}")
    print(
        f"  served/bare: {ratio:.0%} (per run: {', '.join(f'{x:.0%}' for x in ratios)})"
        f"   target >= {RATIO_TARGET:.0%}: {verdict(ratio >= RATIO_TARGET)}"
    )
    p99s = ", ".join(f"{r['served'].p99_ms:.1f}" for r in runs)
    print(
        f"  served p99: {served_p99:.2f} ms (per run: {p99s})"
        f"   target < {P99_TARGET_MS:.0f} ms: {verdict(served_p99 < P99_TARGET_MS)}"
    )
    bad = sum(r[kind].non_2xx for r in runs for kind in ("bare", "served"))
    if bad:
        print(f"  WARNING: {bad} non-2xx answers under wrk: the throughput figures are not valid")
    print("-" * width)
    print(f"Sequential, one client, {args.requests} requests each   p50 ms    p90 ms    p99 ms")
    rows = (
        ("bare DRF view (gunicorn)", results["bare_seq"]),
        ("served lookup (no partner call)", results["served_seq"]),
        ("(a) sandbox detail, direct", partner),
        ("(b) hub lookup -> sandbox", hub),
    )
    for label, values in rows:
        p50, p90, p99 = seq(values)
        print(f"  {label:44} {p50:8.2f}  {p90:8.2f}  {p99:8.2f}")
    if results["hub_partner_ms"]:
        p50, p90, p99 = seq(results["hub_partner_ms"])
        print(f"  {'partner time as the hub recorded it':44} {p50:8.2f}  {p90:8.2f}  {p99:8.2f}")
    print(
        f"  overhead (b)-(a): median {overhead50:.2f} ms, p90 {overhead90:.2f} ms "
        f"(per-pair differences: p50 {med(diffs):.2f}, p90 {percentile(diffs, 90):.2f})"
    )
    ok = overhead50 < OVERHEAD_TARGET_MS
    print(f"  target median < {OVERHEAD_TARGET_MS:.0f} ms: {verdict(ok)}")
    print("-" * width)
    print(
        f"SUMMARY  served/bare {ratio:.0%} {verdict(ratio >= RATIO_TARGET)} | "
        f"served p99 {served_p99:.1f} ms {verdict(served_p99 < P99_TARGET_MS)} | "
        f"overhead p50 {overhead50:.2f} ms {verdict(overhead50 < OVERHEAD_TARGET_MS)} | "
        f"{elapsed:.0f} s"
    )
    print("=" * width)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
