"""The Data Pump delivery benchmark: see benchmarks/README.md.

    .venv/bin/python -m benchmarks.deliveries [--workers 4] [--latency-ms 50]
        [--payments 1200] [--cold-payments 600] [--runs 3] [--probe 40]
        [--baseline-tasks 400] [--database-url postgres://...] [--redis-url redis://...]
        [--settings MODULE] [--keep]

Payments are accepted with the service the payment API calls (`payment_accept`)
while no cluster runs, so that their tasks wait in the broker; then a real
django-q2 cluster (`manage.py qcluster` with N worker processes) starts and
delivers them to two partner sandboxes (IMT and CitizenServe, in this process)
that answer every call after `--latency-ms`. Deliveries per second = payments /
(the last delivery's finished_at - the first partner call's started_at), next to
the ceiling for the same workers: workers / latency when a delivery makes one
call (warm: the payer's invoice was just read by RTDR), workers / (2 x latency)
when it makes two (cold: an invoice from a file is read before the post).
Target: warm >= 80% of its ceiling.

For context it also times one delivery at a time in this process with the
sandboxes at 0 ms (the hub's own cost and its queries), and django-q2 alone:
tasks that only sleep for the latency, and tasks that do nothing.

Everything runs on a fresh temporary SQLite database with the ORM broker, or on
the PostgreSQL database given with --database-url (dropped and created anew: its
name must contain "bench"), with django-q2's Redis broker when --redis-url is
given (that Redis database is flushed). The cluster and the sandboxes are
stopped on exit, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from benchmarks.rtdr import (
    IMT_BID,
    PEORIA_BID,
    PRESET_SECRET_VARIABLES,
    _cpu_model,
    _db_version,
    _interrupt,
    log,
    percentile,
    verdict,
)

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.80  # of the ceiling, warm deliveries
SANDBOXES = {"IMT": "imt", "CitizenServe": "citizenserve"}  # Biller.partner -> sandbox
# Variables that would change the pump or the cluster under test: the defaults apply.
PUMP_VARIABLES = ("ICI_Q_NAME", "ICI_CONFIG_CACHE_SECONDS", "DJANGO_CONN_MAX_AGE")
PUMP_PREFIXES = ("ICI_PUMP_", "ICI_PARTNER_")


@dataclass(frozen=True)
class Kind:
    name: str
    calls: int  # partner calls per delivery
    label: str


WARM = Kind("warm", 1, "warm (1 call)")
COLD = Kind("cold", 2, "cold (2 calls)")


@dataclass(frozen=True)
class Batch:
    kind: Kind
    tag: str
    guids: tuple[str, ...]
    delivery_ids: tuple[int, ...]
    accept_seconds: float


@dataclass(frozen=True)
class Delivered:
    kind: Kind
    count: int
    window_s: float  # first partner call started -> last delivery finished
    partner_ms: float  # partner time per delivery, as the hub recorded it (all its calls)
    call_p50_ms: float
    accept_seconds: float
    stop_seconds: float  # stopping the cluster: its monitor saves what it still holds
    cpu_busy: float  # share of the machine's CPU time in use during the window
    cpu_others: float  # share used by processes that are none of the benchmark's

    @property
    def rate(self) -> float:
        return self.count / self.window_s


# --- the database ----------------------------------------------------------------


def database_recreate(url: str) -> None:
    """Drop and create the PostgreSQL database of `url` (only a benchmark's)."""
    import environ
    import psycopg
    from psycopg import sql

    db = environ.Env.db_url_config(url)
    name = db["NAME"]
    if "bench" not in name:
        raise SystemExit(
            f"refusing to drop database {name!r}: the benchmark drops and creates its "
            "database, so its name must contain 'bench'"
        )
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def redis_flush(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    version = client.info("server")["redis_version"]
    client.close()
    return version


def prepare_database(sandboxes: dict, credentials: dict) -> list:
    """Migrate, load the presets, point both billers at their sandboxes. Returns the
    billers [IMT, Peoria]."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from billers.models import Biller
    from partners.services.sandboxes import biller_point_at_sandbox

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_biller_preset", "--activate", stdout=io.StringIO(), stderr=io.StringIO())
    billers = []
    for bid in (IMT_BID, PEORIA_BID):
        biller = Biller.objects.get(bid=bid)
        biller_point_at_sandbox(
            biller=biller,
            sandbox_url=sandboxes[biller.partner].url,
            credential=credentials[biller.partner],
        )
        billers.append(biller)
    log(
        f"database ready: {connection.vendor} {connection.settings_dict['NAME']}; billers "
        + ", ".join(f"{b.bid} ({b.partner}) -> {sandboxes[b.partner].url}" for b in billers)
    )
    return billers


def batch_create(*, kind: Kind, tag: str, count: int, billers: list, sandboxes: dict) -> Batch:
    """`count` invoices, one per payment, alternately on each biller: in the hub and in
    the sandbox's ledger; then one payment each, accepted as the payment API does
    (its task goes to the broker on commit). Warm invoices are as RTDR just read them
    (the partner's record kept); cold ones came from a file."""
    from django.utils import timezone

    from billers.models import Customer, Invoice, RefreshSource
    from payments.models import Delivery
    from payments.services.payments import PaymentIn, payment_accept

    now = timezone.now()
    fresh = kind.calls == 1
    customers, invoices, rows = [], [], []
    for n in range(count):
        biller = billers[n % len(billers)]
        number = f"{tag}-{n:05d}"
        balance = Decimal(10 + n % 90)
        account, record = sandboxes[biller.partner].ledger.add_open_invoice(
            number, balance=balance, account=f"A{number}", name=f"BENCH {n}"
        )
        customers.append(Customer(biller=biller, account_number=account, name=f"BENCH {tag} {n}"))
        invoices.append(
            Invoice(
                biller=biller,
                invoice_number=number,
                total_amount_due=balance,
                balance_due=balance,
                raw_payload=record if fresh else None,
                refreshed_at=now,
                refreshed_via=RefreshSource.RTDR_REFRESH if fresh else RefreshSource.FILE,
            )
        )
        rows.append((biller, number, account, balance))
    Customer.objects.bulk_create(customers, batch_size=500)
    ids = dict(
        Customer.objects.filter(name__startswith=f"BENCH {tag} ").values_list(
            "account_number", "pk"
        )
    )
    for invoice, customer in zip(invoices, customers, strict=True):
        invoice.customer_id = ids[customer.account_number]
    Invoice.objects.bulk_create(invoices, batch_size=500)

    started = time.monotonic()
    guids = []
    for n, (biller, number, account, balance) in enumerate(rows):
        data = PaymentIn(
            payment_guid=uuid.uuid4(),
            invoice_number=number,
            account_number=account,
            amount=balance,
            service_fee=Decimal("1.95"),
            payment_source=("Web CC", "IVR Eck")[n % 2],
            approval_code=f"B{n}",
            payer_name=f"Bench Payer {n}",
            paid_at=timezone.now(),
        )
        _, created = payment_accept(biller=biller, data=data)
        if not created:
            raise RuntimeError(f"payment {data.payment_guid} was not created")
        guids.append(str(data.payment_guid))
    accept_seconds = time.monotonic() - started
    delivery_ids = tuple(
        Delivery.objects.filter(invoice_number__startswith=f"{tag}-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(delivery_ids) != count:
        raise RuntimeError(f"{tag}: {len(delivery_ids)} deliveries for {count} payments")
    return Batch(kind, tag, tuple(guids), delivery_ids, accept_seconds)


def results_prefill() -> int:
    """A running cluster has as many successful results stored as Q_CLUSTER's
    `save_limit` says (it prunes the oldest one on every save): store that many, as
    old results of the delivery task, so that every run starts in that steady state
    instead of an empty table. Returns how many."""
    from django.utils import timezone
    from django_q.conf import Conf
    from django_q.models import Task

    if Conf.SAVE_LIMIT <= 0:
        return 0
    old = timezone.now() - datetime.timedelta(hours=1)
    Task.objects.bulk_create(
        [
            Task(
                id=uuid.uuid4().hex,
                name=f"bench-prefill-{n}",
                func="payments.tasks.delivery_run_task",
                args=(n,),
                kwargs={},
                result="posted",
                success=True,
                attempt_count=1,
                started=old + datetime.timedelta(milliseconds=n),
                stopped=old + datetime.timedelta(milliseconds=n + 50),
            )  # fmt: skip
            for n in range(Conf.SAVE_LIMIT)
        ],
        batch_size=100,
    )
    return Conf.SAVE_LIMIT


# --- delivering ------------------------------------------------------------------


def cluster_for(args, logfile: Path):
    from icintegrations.testing.qcluster import QCluster

    return QCluster(
        workers=args.workers, env={"DJANGO_SETTINGS_MODULE": args.settings}, log=logfile
    )


def batch_deliver(args, batch: Batch, sandboxes: dict, logfile: Path) -> Delivered:
    """Start the cluster on the waiting tasks, sleep-poll (once a second, so that this
    process leaves the CPU to the sandboxes) until every delivery is final, stop it,
    check every payment reached its partner exactly once, and read the timings."""
    from django.db import connection
    from django.db.models import Max, Min, Sum

    from payments.models import OPEN_STATUSES, Delivery, DeliveryAttempt, DeliveryStatus

    # A batch's deliveries are contiguous: nothing else writes deliveries meanwhile.
    span = (batch.delivery_ids[0], batch.delivery_ids[-1])
    deliveries = Delivery.objects.filter(pk__range=span)
    count = len(batch.delivery_ids)
    if deliveries.count() != count:
        raise RuntimeError(f"{batch.tag}: its deliveries are not contiguous")
    ceiling = ceiling_of(args, batch.kind)
    # Generous: five times the time at the ceiling, and at least two minutes.
    limit = max(120.0, 5 * count / ceiling)
    cluster = cluster_for(args, logfile)
    samples = []
    with cluster:
        deadline = time.monotonic() + limit
        while True:
            samples.append(cpu_sample())
            time.sleep(1)
            left = deliveries.filter(status__in=OPEN_STATUSES).count()
            if not left:
                break
            if cluster.process.poll() is not None:
                raise RuntimeError(f"the cluster exited; see {logfile}")
            if time.monotonic() > deadline:
                statuses = Counter(deliveries.values_list("status", flat=True))
                raise RuntimeError(f"{batch.tag}: not done in {limit:.0f} s: {dict(statuses)}")
        stopping = time.monotonic()
        cluster.stop()
    stop_seconds = time.monotonic() - stopping

    statuses = Counter(deliveries.values_list("status", flat=True))
    if statuses != {DeliveryStatus.POSTED: count}:
        raise RuntimeError(f"{batch.tag}: not every delivery is posted: {dict(statuses)}")
    attempts = DeliveryAttempt.objects.filter(delivery__id__range=span)
    calls = Counter(attempts.values_list("kind", "outcome"))
    expected = {("post", "success"): count}
    if batch.kind.calls == 2:
        expected[("snapshot", "success")] = count
    if calls != expected:
        raise RuntimeError(
            f"{batch.tag}: expected {batch.kind.calls} successful call(s) per delivery, "
            f"got {dict(calls)}"
        )
    applied = Counter()
    for sandbox in sandboxes.values():
        applied.update(p["key"] for p in sandbox.ledger.payments)
    wrong = {guid: applied.get(guid, 0) for guid in batch.guids if applied.get(guid, 0) != 1}
    extra = set(applied) - set(batch.guids)
    if wrong or extra:
        raise RuntimeError(
            f"{batch.tag}: {len(wrong)} payments not applied exactly once by the partners "
            f"(e.g. {list(wrong.items())[:3]}), {len(extra)} unknown payments applied"
        )

    first = attempts.aggregate(first=Min("started_at"))["first"]
    last = deliveries.aggregate(last=Max("finished_at"))["last"]
    partner_total = attempts.aggregate(total=Sum("duration_ms"))["total"]
    posts = list(attempts.filter(kind="post").values_list("duration_ms", flat=True))
    connection.close()
    busy, others = cpu_share(samples, first.timestamp(), last.timestamp())
    return Delivered(
        kind=batch.kind,
        count=count,
        window_s=(last - first).total_seconds(),
        cpu_busy=busy,
        cpu_others=others,
        partner_ms=partner_total / count,
        call_p50_ms=statistics.median(posts),
        accept_seconds=batch.accept_seconds,
        stop_seconds=stop_seconds,
    )


@dataclass(frozen=True)
class CpuSample:
    at: float  # time.time()
    busy: int  # jiffies, all cores
    total: int
    others: dict[int, int]  # pid -> jiffies used so far, for processes not the benchmark's


def cpu_sample() -> CpuSample:
    """The machine's CPU counters, and those of every process that is not this one, its
    descendants (the cluster), PostgreSQL or Redis: someone else's work on a shared
    machine, which the results should show."""
    at = time.time()
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    parents, used, names = {}, {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        values = rest.split()
        pid = int(entry.name)
        parents[pid], used[pid], names[pid] = (
            int(values[1]),
            int(values[11]) + int(values[12]),
            name,
        )
    ours = {os.getpid()}
    for pid in sorted(parents):  # a child's pid is not always above its parent's
        chain, p = [], pid
        while p in parents and p not in ours and p > 1:
            chain.append(p)
            p = parents[p]
        if p in ours:
            ours.update(chain)
    others = {
        pid: jiffies
        for pid, jiffies in used.items()
        if pid not in ours and not names[pid].startswith(("postgres", "redis"))
    }
    return CpuSample(at, sum(fields) - idle, sum(fields), others)


def cpu_share(samples: list[CpuSample], start: float, end: float) -> tuple[float, float]:
    """(busy, used by others) as shares of the machine between the samples that
    bracket [start, end] most tightly from inside (the whole series if too short)."""
    inside = [s for s in samples if start <= s.at <= end]
    a, b = (inside[0], inside[-1]) if len(inside) >= 2 else (samples[0], samples[-1])
    total = b.total - a.total
    if total <= 0:
        return 0.0, 0.0
    others = sum(j - a.others.get(pid, 0) for pid, j in b.others.items())
    return (b.busy - a.busy) / total, max(0, others) / total


def ceiling_of(args, kind: Kind) -> float:
    return args.workers / (kind.calls * args.latency_ms / 1000)


def sandboxes_reset(sandboxes: dict, latency_ms: float) -> None:
    for sandbox in sandboxes.values():
        sandbox.reset(demo_data=False)
        sandbox.set_faults(latency_ms=latency_ms)


# --- context: one delivery in this process, and django-q2 alone --------------------


def probe(args, billers, sandboxes) -> dict:
    """Deliver `--probe` warm and cold payments one at a time in this process, the
    sandboxes at 0 ms: the hub's own time per delivery (wall time minus the partner
    time it recorded) and the queries it made."""
    from django.db import connection
    from django.db.models import Sum
    from django.test.utils import CaptureQueriesContext
    from django_q.brokers import get_broker

    from payments.models import DeliveryAttempt
    from payments.services.delivery import delivery_run

    sandboxes_reset(sandboxes, 0)
    found = {}
    for kind in (WARM, COLD):
        batch = batch_create(
            kind=kind, tag=f"P{kind.name[0].upper()}", count=args.probe + 3,
            billers=billers, sandboxes=sandboxes,
        )  # fmt: skip
        queries, hub_ms = [], []
        for i, pk in enumerate(batch.delivery_ids):
            if i < 3:  # the first ones counted (the query log costs time), not timed
                with CaptureQueriesContext(connection) as captured:
                    said = delivery_run(pk)
                queries.append(len(captured.captured_queries))
            else:
                started = time.perf_counter()
                said = delivery_run(pk)
                wall = (time.perf_counter() - started) * 1000
                partner = DeliveryAttempt.objects.filter(delivery_id=pk).aggregate(
                    total=Sum("duration_ms")
                )["total"]
                hub_ms.append(wall - partner)
            if said != "posted":
                raise RuntimeError(f"probe delivery {pk}: {said}")
        found[kind.name] = (statistics.median(queries), hub_ms)
    # Their tasks went to the broker on commit: the deliveries are done, drop them.
    get_broker().purge_queue()
    sandboxes_reset(sandboxes, args.latency_ms)
    connection.close()
    log(
        "probe, one delivery at a time in this process, sandboxes at 0 ms: "
        + "; ".join(
            f"{name} {statistics.median(ms):.1f} ms of hub time, {q} queries"
            for name, (q, ms) in found.items()
        )
    )
    return found


def queue_alone(args, tmp: Path, *, seconds: float, label: str) -> float:
    """`--baseline-tasks` tasks that only `time.sleep(seconds)`, waiting in the broker,
    then run by the same cluster: tasks per second between the stops of the first
    round (one per worker) and of the last task (django-q2 records when a task
    stopped, not when it started)."""
    from django.db import connection
    from django_q.conf import Conf
    from django_q.models import Task
    from django_q.tasks import async_task

    count = args.baseline_tasks
    if 0 < Conf.SAVE_LIMIT < count:
        raise RuntimeError(f"--baseline-tasks: at most {Conf.SAVE_LIMIT} (Q_CLUSTER's save_limit)")
    group = f"bench-{label}-{uuid.uuid4().hex[:8]}"
    for _ in range(count):
        async_task("time.sleep", seconds, q_options={"group": group, "save": True})
    tasks = Task.objects.filter(group=group)
    cluster = cluster_for(args, tmp / f"qcluster-{label}.log")
    with cluster:
        deadline = time.monotonic() + max(120.0, 5 * count * seconds / args.workers)
        connection.close()
        while True:
            time.sleep(1)
            done = tasks.count()
            connection.close()
            if done >= count:
                break
            if cluster.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{label}: {done} of {count} tasks done; see {cluster.log}")
    stopped = list(tasks.order_by("stopped").values_list("stopped", flat=True))
    if not all(tasks.values_list("success", flat=True)):
        raise RuntimeError(f"{label}: a task failed; see {cluster.log}")
    connection.close()
    # The first `workers` tasks stop together, one task's time after the start.
    first = min(args.workers, count - 1) - 1
    return (count - 1 - first) / (stopped[-1] - stopped[first]).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="django-q2 worker processes")
    parser.add_argument("--latency-ms", type=float, default=50, help="every partner call")
    parser.add_argument("--payments", type=int, default=1200, help="warm payments per run")
    parser.add_argument(
        "--cold-payments", type=int, default=0, help="cold payments per run; default: half"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--probe", type=int, default=40, help="deliveries of each kind timed in this process"
    )
    parser.add_argument(
        "--baseline-tasks", type=int, default=400, help="tasks of each kind for django-q2 alone"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL URL, dropped and created anew (its name must contain 'bench'); "
        "default: a fresh temporary SQLite with django-q2's ORM broker",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="django-q2's Redis broker (ICI_REDIS_URL); that Redis database is flushed",
    )
    parser.add_argument(
        "--settings",
        default="benchmarks.settings",
        help="the settings module of this process and of the cluster (importable from the "
        "project root or PYTHONPATH); default: benchmarks.settings",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    args.cold_payments = args.cold_payments or args.payments // 2

    signal.signal(signal.SIGTERM, _interrupt)

    tmp = Path(tempfile.mkdtemp(prefix="ici-bench-deliveries-"))
    for name in [*PUMP_VARIABLES, "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "ICI_LOG_LEVEL"]:
        os.environ.pop(name, None)
    for name in [n for n in os.environ if n.startswith(PUMP_PREFIXES)]:
        os.environ.pop(name)
    os.environ.update(
        {
            "ICI_MODE": "demo",
            "DJANGO_SETTINGS_MODULE": args.settings,
            "ICI_VAR_DIR": str(tmp),
            "DATABASE_URL": args.database_url,
            "ICI_REDIS_URL": args.redis_url,
            **{name: "" for name in PRESET_SECRET_VARIABLES},
        }
    )
    started = time.monotonic()
    failed = True
    try:
        if args.database_url:
            database_recreate(args.database_url)
        broker = f"redis {redis_flush(args.redis_url)}" if args.redis_url else "ORM"
        with ExitStack() as stack:
            from partners.sandbox import SandboxServer

            sandboxes, credentials = {}, {}
            for partner, name in SANDBOXES.items():
                credentials[partner] = "bench-" + secrets.token_hex(12)
                sandbox = SandboxServer(
                    partner=name, credential=credentials[partner], port=0, demo_data=False
                )
                sandbox.set_faults(latency_ms=args.latency_ms)
                sandboxes[partner] = sandbox.start()
                stack.callback(sandbox.stop)
            log(f"sandboxes in-process, {args.latency_ms:g} ms a call: IMT and CitizenServe")
            billers = prepare_database(sandboxes, credentials)
            stored = results_prefill()
            log(f"django-q2: {stored} stored task results, as a running cluster keeps")
            probed = probe(args, billers, sandboxes) if args.probe else {}
            runs = run(args, tmp, billers, sandboxes)
            alone = {}
            if args.baseline_tasks:
                for label, seconds in (("sleep", args.latency_ms / 1000), ("noop", 0)):
                    alone[label] = queue_alone(args, tmp, seconds=seconds, label=label)
                    log(f"django-q2 alone, {label}: {alone[label]:.1f} tasks/s")
            results = dict(
                runs=runs, probe=probed, alone=alone, db=_db_version(), broker=broker, stored=stored
            )
            failed = False
    except KeyboardInterrupt:
        log("interrupted")
        failed = False
        return 130
    finally:
        if args.keep or failed:
            log(f"kept {tmp} (the cluster's logs are there)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary(args, results, time.monotonic() - started)
    return 0


def run(args, tmp: Path, billers, sandboxes) -> list[dict]:
    runs = []
    for i in range(1, args.runs + 1):
        order = (WARM, COLD) if i % 2 else (COLD, WARM)
        found = {}
        for kind in order:
            count = args.payments if kind is WARM else args.cold_payments
            tag = f"R{i}{kind.name[0].upper()}"
            batch = batch_create(
                kind=kind, tag=tag, count=count, billers=billers, sandboxes=sandboxes
            )
            log(
                f"run {i} {kind.name}: {count} payments accepted in {batch.accept_seconds:.1f} s "
                "(no cluster running); starting the cluster"
            )
            found[kind.name] = r = batch_deliver(
                args, batch, sandboxes, tmp / f"qcluster-{tag}.log"
            )
            log(
                f"run {i} {kind.name}: {r.count} delivered in {r.window_s:.1f} s: "
                f"{r.rate:.1f}/s ({r.rate / ceiling_of(args, kind):.0%} of "
                f"{ceiling_of(args, kind):.0f}); partner {r.partner_ms:.1f} ms per delivery; "
                f"cluster stopped in {r.stop_seconds:.1f} s"
            )
            sandboxes_reset(sandboxes, args.latency_ms)
        runs.append(found)
    return runs


def summary(args, results: dict, elapsed: float) -> None:
    med = statistics.median
    runs = results["runs"]
    width = 78
    print("\n" + "=" * width)
    print(
        f"Data Pump delivery benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}, "
        f"{os.cpu_count()} cores ({_cpu_model()}), "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"settings: {args.settings}; database: {results['db']}; broker: {results['broker']}\n"
        f"qcluster: {args.workers} workers; sandboxes (IMT and CitizenServe, half the "
        f"payments each)\nin this process at {args.latency_ms:g} ms a call; {args.runs} runs; "
        f"{results['stored']} stored task results at the start"
    )
    print("-" * width)
    print("Deliveries             count deliv/s ceiling of ceil. partner ms other ms  CPU others")
    verdicts = {}
    for kind in (WARM, COLD):
        ceiling = ceiling_of(args, kind)
        rows = [r[kind.name] for r in runs]
        for i, r in enumerate(rows, 1):
            other = args.workers * r.window_s * 1000 / r.count - r.partner_ms
            print(
                f"  run {i} {kind.label:15} {r.count:5} {r.rate:7.1f} {ceiling:7.1f} "
                f"{r.rate / ceiling:8.0%} {r.partner_ms:10.1f} {other:8.1f} "
                f"{r.cpu_busy:4.0%} {r.cpu_others:6.0%}"
            )
        rate = med(r.rate for r in rows)
        share = rate / ceiling
        per_run = ", ".join(f"{r.rate / ceiling:.0%}" for r in rows)
        if kind is WARM:
            verdicts[kind.name] = f"{share:.0%} {verdict(share >= TARGET)}"
            goal = f"target >= {TARGET:.0%}: {verdict(share >= TARGET)}"
        else:
            verdicts[kind.name] = f"{share:.0%}"
            goal = "(no target)"
        print(
            f"  median {kind.name}: {rate:.1f}/s = {share:.0%} of {ceiling:.0f}/s "
            f"(per run: {per_run})   {goal}"
        )
    print(
        "  partner ms: the partner time per delivery the hub recorded (all its calls); other "
        "ms:\n  workers x elapsed / deliveries - partner ms, the rest of a worker's time per "
        "delivery;\n  CPU: the machine's CPU in use meanwhile; others: used by processes "
        "not of this\n  benchmark, its cluster, PostgreSQL or Redis (someone else's work)"
    )
    posts = [r[kind.name].call_p50_ms for r in runs for kind in (WARM, COLD)]
    stops = ", ".join(f"{r[k.name].stop_seconds:.1f}" for r in runs for k in (WARM, COLD))
    print(
        f"  one partner call as the hub recorded it: p50 {med(posts):.1f} ms; cluster stop "
        f"after the last delivery (s): {stops}"
    )
    print("-" * width)
    if results["probe"]:
        print(
            f"One delivery at a time in this process, sandboxes at 0 ms ({args.probe} each)"
            "   p50 ms   p90 ms  queries"
        )
        for name, (queries, hub_ms) in results["probe"].items():
            label = f"hub time of a {name} delivery (wall - partner)"
            print(f"  {label:62} {med(hub_ms):6.2f} {percentile(hub_ms, 90):8.2f} {queries:8.0f}")
    if results["alone"]:
        sleep = results["alone"]["sleep"]
        ceiling = ceiling_of(args, WARM)
        print(
            f"django-q2 alone, {args.workers} workers, {args.baseline_tasks} tasks each: "
            f"sleep {args.latency_ms:g} ms: {sleep:.1f}/s ({sleep / ceiling:.0%} of "
            f"{ceiling:.0f}); no-op: {results['alone']['noop']:.1f}/s"
        )
    print("-" * width)
    others = max(r[k.name].cpu_others for r in runs for k in (WARM, COLD))
    print(
        f"SUMMARY  warm {verdicts['warm']} (target {TARGET:.0%}) | cold {verdicts['cold']} | "
        f"others' CPU <= {others:.0%} | {elapsed:.0f} s"
    )
    print("=" * width)


if __name__ == "__main__":
    sys.exit(main())
