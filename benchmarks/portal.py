"""The portal's payment history benchmark: see benchmarks/README.md.

    .venv/bin/python -m benchmarks.portal [--database-url postgres://...|--sqlite]
        [--payments 1000000] [--others 10000] [--requests 50] [--explain] [--keep]

Loads --payments payments of one biller (dates over two years, statuses,
methods, sources, payer names, ties in time and amount) and --others of a
second biller, with one INSERT ... SELECT over a generated series; then, in
this process, through Django's test Client (the whole response: middleware,
session, user, biller, the page's query, the template; no network), times
--requests requests of each kind, interleaved round by round:

- the history's first page and its page 1,000 (the cursor a user who clicked
  "Next" 999 times would have, made once before the timing), without a filter,
  with status=posted&method=card, with a 90-day date range and sorted by amount;
  first pages of rarer filters (payer name prefix, an invoice number, a rare
  status);
- baselines of the same run: a bare DRF view through the same Client, the
  bare indexed LIMIT query (raw SQL), and for context the OFFSET query of page
  1,000 and a COUNT(*) of the biller's payments (what a Paginator would run);
- the totals view (a SUM over the filtered set), fewer requests.

Then the CSV export, each in a child process of its own (its peak RSS from
getrusage): the second biller's 10,000 payments, and all the first biller's.
Constant memory = the same peak RSS for both.

Target: the first page and page 1,000, with and without the filter, under
50 ms at the median on PostgreSQL.

The PostgreSQL database (default icint_hist_bench) is dropped and created
afresh, and dropped at the end unless --keep; SQLite uses a temporary
directory, removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/icint_hist_bench"
BID, OTHER_BID = 7001, 7002
USERNAME, PASSWORD = "bench-clerk", "bench-portal-password-1"
TARGET_MS = 50.0
PAGE = 1000
FIRST_NAMES = (
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Carlos Karen Maria Nancy Jose Lisa Luis Betty "
    "Juan Sandra Ana Ashley Daniel Kimberly Wei Emily Li Donna Ahmed Michelle Fatima Carol"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores"
).split()
M = 1_000_003  # a prime: g -> (g * a + b) % M is one-to-one for g < M
HASHES = {
    "time": (48271, 11),
    "method": (69621, 3),
    "source": (16807, 7),
    "status": (40692, 5),
    "amount": (39373, 13),
    "first": (92717, 17),
    "last": (52721, 19),
    "invoice": (77383, 23),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- databases ----------------------------------------------------------------


def pg_admin(database_url: str, *statements: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_name(database_url: str) -> str:
    name = urlsplit(database_url).path.lstrip("/")
    if name in ("", "postgres", "icintegrations", "test_icintegrations"):
        raise SystemExit(f"refusing to drop the shared database {name!r}")
    return name


def load_payments(*, vendor: str, biller_id: int, first: int, count: int, start: str) -> None:
    """`count` payments of `biller_id` in one INSERT ... SELECT, the same rows on
    both databases: every "random" column is a hash of the row number g. Rows
    come in the order they were paid, give or take an hour, as in production
    (ids and paid_at correlate)."""
    from django.db import connection

    def u(name):
        a, b = HASHES[name]
        return f"((g * {a} + {b}) %% {M})"

    def share(fraction):
        return int(fraction * M)

    pg = vendor == "postgresql"
    if pg:
        series = "s(g) AS (SELECT generate_series(%s::bigint, %s::bigint))"
        guid = "md5('bench-' || g)::uuid"
        fingerprint = "md5(g::text)"
        paid_at = "%s::timestamptz + make_interval(secs => secs)"
        inv = "'INV' || lpad(inv::text, 8, '0')"
        acct = "'ACCT' || lpad((inv / 3)::text, 7, '0')"
        approval = "lpad((g * 7919 %% 10000000)::text, 7, '0')"
    else:
        series = "RECURSIVE s(g) AS (SELECT %s UNION ALL SELECT g + 1 FROM s WHERE g < %s)"
        guid = "printf('%%016x%%016x', g * 2654435761 %% 4294967296, g)"
        fingerprint = "printf('%%064x', g)"
        paid_at = "datetime(%s, '+' || secs || ' seconds')"
        inv = "printf('INV%%08d', inv)"
        acct = "printf('ACCT%%07d', inv / 3)"
        approval = "printf('%%07d', g * 7919 %% 10000000)"
    two_years = 730 * 86400
    sql = f"""
        WITH {series}
        INSERT INTO payments_payment (
            payment_guid, biller_id, invoice_id, invoice_number, account_number, amount,
            service_fee, payment_source, method, approval_code, payer_name, paid_at, status,
            receipt_number, request_fingerprint, created_at, updated_at)
        SELECT {guid}, %s, NULL, {inv}, {acct}, cents / 100.0,
            (CASE WHEN method = 'card' THEN max_fee ELSE 150 END) / 100.0,
            source, method, CASE WHEN method = 'card' THEN {approval} ELSE '' END,
            f.name || ' ' || l.name, paid_at, status,
            CASE WHEN status = 'posted' THEN 'R' || g ELSE '' END,
            {fingerprint}, paid_at, paid_at
        FROM (
            SELECT g, inv, cents, method, status, fi, li,
                CASE WHEN cents * 295 / 10000 > 100 THEN cents * 295 / 10000 ELSE 100 END
                    AS max_fee,
                CASE WHEN method = 'card' THEN
                    CASE WHEN us < {share(0.60)} THEN 'Web CC'
                         WHEN us < {share(0.85)} THEN 'IVR CC' ELSE 'AutopayCC' END
                ELSE
                    CASE WHEN us < {share(0.60)} THEN 'Web Eck'
                         WHEN us < {share(0.85)} THEN 'IVR Eck' ELSE 'AutopayEck' END
                END AS source,
                {paid_at} AS paid_at
            FROM (
                SELECT g, us, fi, li, inv, cents, method, status,
                    -- autopay runs at 06:00:00 UTC: ~200 payments a day share that second
                    CASE WHEN us >= {share(0.85)} THEN (secs0 / 86400) * 86400 + 21600
                         ELSE secs0 END AS secs
                FROM (
                    SELECT g,
                        -- in order of g, as a table fills (give or take an hour)
                        (g - {first}) * {two_years} / {count} + {u("time")} %% 3600 AS secs0,
                        {u("source")} AS us,
                        {u("first")} %% {len(FIRST_NAMES)} AS fi,
                        {u("last")} %% {len(LAST_NAMES)} AS li,
                        {u("invoice")} %% 400000 AS inv,
                        500 + ({u("amount")} * {u("amount")} / {M}) * 249500 / {M} AS cents,
                        CASE WHEN {u("method")} < {share(0.60)} THEN 'card' ELSE 'bank' END
                            AS method,
                        CASE WHEN {u("status")} < {share(0.93)} THEN 'posted'
                             WHEN {u("status")} < {share(0.95)} THEN 'rejected'
                             WHEN {u("status")} < {share(0.96)} THEN 'review'
                             WHEN {u("status")} < {share(0.97)} THEN 'failed'
                             WHEN {u("status")} < {share(0.98)} THEN 'reversed'
                             ELSE 'pending' END AS status
                    FROM s
                ) a
            ) b
        ) c
        JOIN bench_first_names f ON f.i = c.fi
        JOIN bench_last_names l ON l.i = c.li
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [first, first + count - 1, biller_id, start])


def load(*, payments: int, others: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from billers.models import Biller, BillerMembership, Partner
    from payments.models import Payment, Reversal

    vendor = connection.vendor
    biller = Biller.objects.create(bid=BID, name="Bench City", partner=Partner.IMT, time_zone="UTC")
    other = Biller.objects.create(
        bid=OTHER_BID, name="Bench Utility", partner=Partner.IMT, time_zone="UTC"
    )
    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    for b in (biller, other):
        BillerMembership.objects.create(user=user, biller=b)

    expected = {f.column for f in Payment._meta.concrete_fields} - {"id"}
    assert expected == {
        "payment_guid", "biller_id", "invoice_id", "invoice_number", "account_number", "amount",
        "service_fee", "payment_source", "method", "approval_code", "payer_name", "paid_at",
        "status", "receipt_number", "request_fingerprint", "created_at", "updated_at",
    }, f"the Payment model changed: {sorted(expected)}"  # fmt: skip
    today = datetime.datetime.now(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = (today - datetime.timedelta(days=730)).strftime("%Y-%m-%d %H:%M:%S")
    if vendor == "postgresql":
        start += "+00"
    with connection.cursor() as cursor:
        for table, names in (
            ("bench_first_names", FIRST_NAMES),
            ("bench_last_names", LAST_NAMES),
        ):
            cursor.execute(f"CREATE TABLE {table} (i integer PRIMARY KEY, name varchar(50))", [])
            for i, name in enumerate(names):
                cursor.execute(f"INSERT INTO {table} VALUES (%s, %s)", [i, name])
    t0 = time.perf_counter()
    load_payments(vendor=vendor, biller_id=biller.pk, first=1, count=payments, start=start)
    load_payments(vendor=vendor, biller_id=other.pk, first=payments + 1, count=others, start=start)
    with connection.cursor() as cursor:
        # a void to apply on one posted payment in 200 (the history shows it)
        cursor.execute(
            "INSERT INTO payments_reversal (payment_id, kind, return_code, reason, status, "
            "request_fingerprint, created_at, applied_at, applied_by_id) "
            "SELECT id, 'void', '', 'bench', 'to_apply', 'bench', paid_at, NULL, NULL "
            "FROM payments_payment WHERE status = 'posted' AND id %% 200 = 0",
            [],
        )
        for table in ("bench_first_names", "bench_last_names"):
            cursor.execute(f"DROP TABLE {table}")
    loaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE payments_payment")
            cursor.execute("VACUUM ANALYZE payments_reversal")
        else:
            cursor.execute("ANALYZE")
    analyzed = time.perf_counter() - t0
    counts = {
        "payments": Payment.objects.filter(biller=biller).count(),
        "others": Payment.objects.filter(biller=other).count(),
        "reversals": Reversal.objects.count(),
    }
    log(
        f"loaded {counts['payments']:,} + {counts['others']:,} payments and "
        f"{counts['reversals']:,} reversals in {loaded:.1f} s; analyze {analyzed:.1f} s"
    )
    return {"biller": biller, "other": other, "load_s": loaded, **counts}


# --- what is timed -----------------------------------------------------------


def history_query(params: dict):
    from portal.forms import HistoryFilterForm

    form = HistoryFilterForm(params)
    assert form.is_valid(), form.errors
    return form.query()


def cursor_of_page(biller, params: dict, page: int) -> str | None:
    """The "Next" cursor on page `page` - 1: made from that page's last row,
    found with OFFSET once, outside the timing."""
    from portal.selectors.history import (
        PAGE_SIZE,
        ROW_FIELDS,
        SORTS,
        _ordered,
        cursor_make,
        payment_history,
    )

    query = history_query(params)
    column, descending = SORTS[query.sort]
    ordered = _ordered(payment_history(biller=biller, query=query), column, descending)
    rows = list(ordered.values(*ROW_FIELDS)[(page - 1) * PAGE_SIZE - 1 :][:2])
    if len(rows) < 2:
        return None
    cursor = cursor_make(biller=biller, sort=query.sort, row=rows[0], forward=True)
    from portal.selectors.history import payment_history_page

    first = payment_history_page(biller=biller, query=query, cursor=cursor).rows[0]
    assert first["id"] == rows[1]["id"], "page 1,000 by cursor is not page 1,000 by OFFSET"
    return cursor


def explain(biller, params: dict, cursor: str | None, full: bool, totals: bool = False) -> str:
    """How the database runs the page's query (or the totals' with `totals`): a
    one-line summary (and the whole plan with --explain)."""
    from django.db import connection

    from portal.selectors.history import (
        payment_history_page_query,
        payment_history_totals_query,
    )

    query = history_query(params)
    if totals:
        qs = payment_history_totals_query(biller=biller, query=query)
    else:
        qs, _ = payment_history_page_query(biller=biller, query=query, cursor=cursor)
    sql, sql_params = qs.query.get_compiler(using="default").as_sql()
    with connection.cursor() as cursor_:
        if connection.vendor == "postgresql":
            cursor_.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, sql_params)
            raw = cursor_.fetchone()[0]
            plan = (raw if isinstance(raw, list) else json.loads(raw))[0]
            summary = _pg_summary(plan)
            if full:
                cursor_.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params)
                summary += "\n" + "\n".join(r[0] for r in cursor_.fetchall())
            return summary
        cursor_.execute("EXPLAIN QUERY PLAN " + sql, sql_params)
        steps = [r[-1] for r in cursor_.fetchall()]
        return "; ".join(steps)


def _pg_summary(plan: dict) -> str:
    nodes = []

    def walk(node, depth=0):
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"])
    parts = []
    for node in nodes:
        kind = node["Node Type"]
        if kind in ("Limit", "Result"):
            continue
        text = kind
        if node.get("Index Name"):
            text += f" {node['Index Name']}"
        if "Scan" in kind and node.get("Relation Name") != "payments_reversal":
            read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
            text += f" (rows {node.get('Actual Rows', 0):,}, read {read:,})"
        if kind in ("Sort", "Incremental Sort"):
            rows_in = sum(child.get("Actual Rows", 0) for child in node.get("Plans", []))
            text += f" ({node.get('Sort Method', '')} of {rows_in:,} rows)"
        if node.get("Relation Name") == "payments_reversal":
            text = "reversal lookup"
        parts.append(text)
    return f"{plan['Execution Time']:.2f} ms: " + " <- ".join(parts)


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run_requests(kinds: dict, rounds: int, warmup: int = 3) -> dict[str, list[float]]:
    """Each kind once per round, in a rotated order, so that the machine's noise
    is shared; `warmup` untimed rounds first."""
    names = list(kinds)
    samples = {name: [] for name in names}
    for r in range(warmup + rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            t0 = time.perf_counter()
            kinds[name]()
            elapsed = (time.perf_counter() - t0) * 1000
            if r >= warmup:
                samples[name].append(elapsed)
    return samples


def getter(client, url: str, *, expect_rows: int | None = None):
    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.content
        if expect_rows is not None:
            rows = body.count(b"<tr>") - 1  # minus the header row
            assert rows == expect_rows, (url, rows)
        return body

    return get


# --- the export, in child processes ------------------------------------------


def export_child(bid: int, query: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=USERNAME))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    response = client.get(f"/portal/{bid}/payments.csv{'?' + query if query else ''}")
    assert response.status_code == 200 and response.streaming
    size = lines = first_ms = 0
    for chunk in response.streaming_content:
        if not size:
            first_ms = (time.perf_counter() - t0) * 1000
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "first_chunk_ms": first_ms,
                "bytes": size,
                "rows": lines - 1,
                "rss_before_mb": before / 1024,
                "rss_peak_mb": after / 1024,
            }
        )
    )


def measured_export(bid: int, query: str = "") -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.portal",
            "--export-child",
            str(bid),
            "--export-query",
            query,
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"export child failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the run -----------------------------------------------------------------


def run(args) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from portal.selectors.history import PAGE_SIZE

    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("SHOW server_version")
            db_version = f"PostgreSQL {c.fetchone()[0]}"
    else:
        import sqlite3

        db_version = f"SQLite {sqlite3.sqlite_version}"
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    log(f"{db_version}: migrated in {time.perf_counter() - t0:.1f} s; loading")
    data = load(payments=args.payments, others=args.others)
    biller = data["biller"]

    client = Client(HTTP_HOST="localhost")
    assert client.login(username=USERNAME, password=PASSWORD)
    base = f"/portal/{BID}/payments/"
    one_year_ago = datetime.date.today() - datetime.timedelta(days=365)
    range_params = {
        "from": (one_year_ago - datetime.timedelta(days=89)).isoformat(),
        "to": one_year_ago.isoformat(),
    }
    some_invoice = "INV00012345"
    cases = [
        # (label, filters, under the target?)
        ("no filter", {}, True),
        ("status=posted&method=card", {"status": "posted", "method": "card"}, True),
        ("90-day date range", range_params, False),
        ("sorted by amount, largest first", {"sort": "-amount"}, False),
        ("payer name starts with 'maria g'", {"payer": "maria g"}, False),
        (f"number={some_invoice}", {"number": some_invoice}, False),
        ("status=review (1%)", {"status": "review"}, False),
    ]
    kinds = {}
    targets = []
    plans = []
    for label, params, target in cases:
        url = base + ("?" + urlencode(params) if params else "")
        kinds[f"page 1, {label}"] = getter(client, url)
        plans.append((f"page 1, {label}", explain(biller, params, None, args.explain)))
        cursor = cursor_of_page(biller, params, PAGE)
        if target:
            targets += [f"page 1, {label}", f"page {PAGE:,}, {label}"]
            if not cursor:
                raise SystemExit(f"no page {PAGE} with {label}: load more --payments")
        if cursor:
            name = f"page {PAGE:,}, {label}"
            kinds[name] = getter(
                client, base + "?" + urlencode({**params, "cursor": cursor}), expect_rows=PAGE_SIZE
            )
            plans.append((name, explain(biller, params, cursor, args.explain)))

    from django.db import connection as conn

    columns = (
        "id, payment_guid, paid_at, invoice_number, account_number, payer_name, amount, "
        "service_fee, method, payment_source, status, receipt_number, approval_code"
    )

    def sql(statement, params):
        def go():
            with conn.cursor() as c:
                c.execute(statement, params)
                return c.fetchall()

        return go

    order = "ORDER BY paid_at DESC, id DESC"
    baselines = {
        "bare DRF view (same Client)": getter(client, "/bench/bare"),
        "SQL: indexed LIMIT 51 (raw)": sql(
            f"SELECT {columns} FROM payments_payment WHERE biller_id = %s {order} LIMIT 51",
            [biller.pk],
        ),
        "SQL: OFFSET to page 1,000 (raw)": sql(
            f"SELECT {columns} FROM payments_payment WHERE biller_id = %s {order} "
            f"LIMIT 51 OFFSET {(PAGE - 1) * PAGE_SIZE}",
            [biller.pk],
        ),
        "SQL: COUNT(*) of the biller (raw)": sql(
            "SELECT count(*) FROM payments_payment WHERE biller_id = %s", [biller.pk]
        ),
    }
    log(f"timing {len(kinds) + len(baselines)} kinds x {args.requests} requests")
    samples = run_requests({**baselines, **kinds}, args.requests)

    totals_kinds = {}
    for label, params in (
        ("no filter", {}),
        ("status=posted&method=card", {"status": "posted", "method": "card"}),
        ("90-day date range", range_params),
        ("payer name starts with 'maria g'", {"payer": "maria g"}),
    ):
        totals_kinds[f"totals, {label}"] = getter(
            client, f"/portal/{BID}/payments/totals/?" + urlencode({**params, "partial": "1"})
        )
        plans.append((f"totals, {label}", explain(biller, params, None, args.explain, True)))
    log(f"timing the totals view: {len(totals_kinds)} kinds x {args.totals_requests} requests")
    totals_samples = run_requests(totals_kinds, args.totals_requests, warmup=1)

    log("exporting (child processes)")
    small = measured_export(OTHER_BID)
    large = measured_export(BID)

    # --- report ---
    print()
    print("=" * 96)
    print(
        f"Portal payment history benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}, "
        f"{os.cpu_count()} cores, CPython {platform.python_version()}, {db_version}"
    )
    print(
        f"{data['payments']:,} payments of biller {BID}, {data['others']:,} of biller "
        f"{OTHER_BID}, {data['reversals']:,} reversals (loaded in {data['load_s']:.0f} s); "
        f"page size {PAGE_SIZE}"
    )
    print(
        f"in-process through django.test.Client (settings benchmarks.settings, DEBUG off); "
        f"{args.requests} requests of each kind, interleaved"
    )
    print("-" * 96)
    print(f"{'':64} {'p50 ms':>9} {'p90 ms':>9} {'min ms':>9}")

    def line(name, values, mark=""):
        print(
            f"{name:64} {statistics.median(values):9.2f} {pct(values, 0.9):9.2f} "
            f"{min(values):9.2f} {mark}"
        )

    for name, values in samples.items():
        if name in baselines:
            line(name, values)
    print("-" * 96)
    verdicts = []
    for name in kinds:
        mark = ""
        if name in targets:
            ok = statistics.median(samples[name]) < TARGET_MS
            verdicts.append(ok)
            mark = f"< {TARGET_MS:.0f} ms: {'PASS' if ok else 'MISS'}"
        line(name, samples[name], mark)
    print("-" * 96)
    for name, values in totals_samples.items():
        line(name + f" ({args.totals_requests} requests)", values)
    print("-" * 96)
    print(f"{'CSV export, each in a fresh process':40} {'rows':>10} {'MB':>8} {'s':>7} "
          f"{'rows/s':>9} {'RSS before':>11} {'peak RSS':>9}")  # fmt: skip
    for label, result in ((f"biller {OTHER_BID}", small), (f"biller {BID}", large)):
        print(
            f"{label:40} {result['rows']:10,} {result['bytes'] / 1e6:8.1f} "
            f"{result['seconds']:7.1f} {result['rows'] / result['seconds']:9,.0f} "
            f"{result['rss_before_mb']:9.0f}MB {result['rss_peak_mb']:7.0f}MB"
        )
    growth = large["rss_peak_mb"] - small["rss_peak_mb"]
    print(
        f"peak RSS growth from {small['rows']:,} to {large['rows']:,} rows: {growth:+.1f} MB; "
        f"first chunk after {large['first_chunk_ms']:.0f} ms"
    )
    assert large["rows"] == data["payments"] and small["rows"] == data["others"]
    print("-" * 96)
    print("Plans (PostgreSQL: EXPLAIN ANALYZE, the database's own time; SQLite: the query plan):")
    for name, plan in plans:
        print(f"  {name}: {plan}")
    print("=" * 96)
    print(
        f"SUMMARY {'PASS' if all(verdicts) else 'MISS'}: "
        + ", ".join(f"{name} {statistics.median(samples[name]):.1f} ms" for name in targets)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite database")
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--others", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--totals-requests", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="print the whole plans")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--export-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--export-query", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.export_child:
        export_child(args.export_child, args.export_query)
        return
    if args.payments < PAGE * 50 + 50:
        raise SystemExit(f"--payments must be at least {PAGE * 50 + 50} (page {PAGE} and more)")

    work = Path(tempfile.mkdtemp(prefix="ici-bench-portal-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "ICI_MODE": "demo",
            "ICI_VAR_DIR": str(work),
        }
    )
    os.environ.pop("ICI_REDIS_URL", None)
    database_url = None
    if args.sqlite:
        os.environ.pop("DATABASE_URL", None)
    else:
        database_url = args.database_url
        name = pg_name(database_url)
        pg_admin(database_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = database_url
    started = time.perf_counter()
    try:
        run(args)
        log(f"done in {time.perf_counter() - started:.0f} s")
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not be set up yet
            pass
        if args.keep:
            log(f"kept {database_url or work}")
        else:
            if database_url:
                pg_admin(database_url, f'DROP DATABASE IF EXISTS "{pg_name(database_url)}"')
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
