"""The invoice file benchmark: see benchmarks/README.md.

    .venv/bin/python -m benchmarks.invoicefiles [--rows 1000000]
        [--database-url postgres://postgres@127.0.0.1:5432/icintegrations_i5_bench] [--keep]

Generates an IMT invoice file of --rows rows (15 columns, pipe-delimited, a
header), then, in one run:

1. SQLite: a fresh database in a temporary directory; `migrate`; the IMT preset;
   `manage.py import_invoice_file 1367 FILE` (upload path, encoding pass, parse,
   mapping, staging, BIF, merge: the hub's whole work on a file) in a child
   process: its wall time and its peak RSS (os.wait4's ru_maxrss of that child).
2. PostgreSQL: the same on the database of --database-url, dropped and created
   afresh.
3. The floor: PostgreSQL's own `COPY ... FROM STDIN (FORMAT csv, DELIMITER '|',
   HEADER)` of the same file into a plain table (typed columns, no index, no
   constraint), streamed from this process: wall time.
4. The hub's tables alone: the customers and invoices the import wrote, copied
   aside, then written again into the emptied hub tables by two plain `INSERT
   ... SELECT` (no conversion, no ON CONFLICT) and their foreign keys checked,
   in a transaction rolled back: what writing these rows into these tables costs
   whatever the code around it does.

Targets: peak memory < 300 MB; PostgreSQL end-to-end within 4x of COPY; SQLite
under 30 s.

    .venv/bin/python -m benchmarks.invoicefiles --long-line-only [--root CHECKOUT]

instead measures the memory a long line costs (issue 15): the peak RSS of the
process that processes a file (`import_invoice_file`, which runs the worker's
`invoice_file_process` in its own process), on SQLite, for (a) the baseline: a
generated file of 1,000 rows, (b) a 512 MiB file of one line without a line end
(refused, `line_too_long`), (c) a header then a row with a 300 MB field (the
row refused, the file goes on), all in one run. Target: (b) and (c) under
150 MB. `--root` runs another checkout's manage.py (the code before a change)
with this interpreter.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import log, pg_recreate

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HEADER = (
    "invoice_number|invoice_date|due_date|amount_due|past_due_amount|customer_id|customer_name|"
    "address|address2|city|state|ZIP|phone|email|registration value"
)
MEMORY_TARGET_MB = 300
COPY_RATIO_TARGET = 4.0
SQLITE_TARGET_S = 30.0
LONG_LINE_TARGET_MB = 150
PRESET_SECRET_VARIABLES = ("ICI_PEORIA_API_KEY", "ICI_PEORIA_RTDR_KEY", "ICI_IMT_INTEGRATOR_ID")


def generate(path: Path, rows: int) -> None:
    rng = random.Random(1367)
    cities = ["Peoria", "Phoenix", "Glendale", "Tempe", "Mesa"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\r\n")
        buffer = []
        for n in range(rows):
            month = 1 + n % 12
            amount = rng.randint(100, 250_000)
            past_due = amount // 3 if n % 7 == 0 else 0
            day = f"2026-{month:02d}"
            buffer.append(
                f"INV{n:09d}|{day}-01|{day}-21|{amount // 100}.{amount % 100:02d}"
                f"|{past_due // 100}.{past_due % 100:02d}|C{n // 2:08d}|Customer {n // 2}"
                f"|{n % 9999} Main St|{'Apt ' + str(n % 50) if n % 5 == 0 else ''}"
                f"|{cities[n % 5]}|AZ|85{n % 1000:03d}|555-{n % 10000:04d}"
                f"|c{n // 2}@example.test|{'R' + str(n) if n % 3 == 0 else ''}\r\n"
            )
            if len(buffer) >= 10_000:
                f.write("".join(buffer))
                buffer = []
        f.write("".join(buffer))


def env_for(var_dir: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ICI_REDIS_URL")}
    env.update({"ICI_MODE": "demo", "ICI_VAR_DIR": str(var_dir), "DJANGO_DEBUG": "false"})
    env.update({name: "" for name in PRESET_SECRET_VARIABLES})
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env: dict, *args: str, root: Path = ROOT) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL
    )


def measured_import(
    env: dict, file: Path, *, root: Path = ROOT, may_fail: bool = False
) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB (of the importing process alone), its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "manage.py", "import_invoice_file", "1367", str(file), "--no-progress"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 and not may_fail:
        raise SystemExit(f"import failed ({proc.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output.strip()


def pg_copy_floor(database_url: str, file: Path) -> float:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_floor")
        conn.execute(
            "CREATE TABLE bench_copy_floor (invoice_number text, invoice_date date, "
            "due_date date, amount_due numeric(12,2), past_due_amount numeric(12,2), "
            "customer_id text, customer_name text, address text, address2 text, city text, "
            "state text, zip text, phone text, email text, registration_value text)"
        )
        start = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy(
                "COPY bench_copy_floor FROM STDIN (FORMAT csv, DELIMITER '|', HEADER true)"
            ) as copy:
                with open(file, "rb") as f:
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
        elapsed = time.perf_counter() - start
        count = conn.execute("SELECT count(*) FROM bench_copy_floor").fetchone()[0]
        conn.execute("DROP TABLE bench_copy_floor")
    log(f"COPY floor: {count:,} rows in {elapsed:.1f} s")
    return elapsed


TABLE_FLOOR_SQL = {
    "customers": (
        "INSERT INTO billers_customer (biller_id, account_number, name, address1, address2, "
        "city, state, zip, phone, email_address, registration_value, created_at, updated_at) "
        "SELECT biller_id, account_number, name, address1, address2, city, state, zip, phone, "
        "email_address, registration_value, created_at, updated_at FROM bench_customers"
    ),
    "invoices": (
        "INSERT INTO billers_invoice (biller_id, customer_id, invoice_type_id, invoice_number, "
        "record_type, invoice_date, due_date, total_amount_due, balance_due, past_due, "
        "balance_forward, biller_bill_year, biller_invoice_number, custom1, custom2, custom3, "
        "custom4, custom5, custom6, custom7, custom8, custom9, custom10, refreshed_at, "
        "refreshed_via, created_at, updated_at) "
        "SELECT s.biller_id, c.id, s.invoice_type_id, s.invoice_number, s.record_type, "
        "s.invoice_date, s.due_date, s.total_amount_due, s.balance_due, s.past_due, "
        "s.balance_forward, s.biller_bill_year, s.biller_invoice_number, '', '', '', '', '', "
        "'', '', '', '', '', s.refreshed_at, s.refreshed_via, s.created_at, s.updated_at "
        "FROM bench_invoices s JOIN billers_customer c "
        "ON c.biller_id = s.biller_id AND c.account_number = s.account_number"
    ),
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at commit.
    "foreign keys": "SET CONSTRAINTS ALL IMMEDIATE",
}


def pg_table_floor(database_url: str) -> dict[str, float]:
    """The imported rows written again into the emptied hub tables, rolled back (step 4)."""
    import psycopg

    times = {}
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TEMPORARY TABLE bench_customers AS SELECT * FROM billers_customer")
        conn.execute(
            "CREATE TEMPORARY TABLE bench_invoices AS SELECT i.*, c.account_number "
            "FROM billers_invoice i JOIN billers_customer c ON c.id = i.customer_id"
        )
        conn.execute("ANALYZE bench_customers")
        conn.execute("ANALYZE bench_invoices")
        conn.commit()
        conn.execute("SET LOCAL work_mem = '64MB'")  # as the hub's merge does
        conn.execute("TRUNCATE billers_invoice, billers_customer CASCADE")
        for step, sql in TABLE_FLOOR_SQL.items():
            start = time.perf_counter()
            conn.execute(sql)
            times[step] = time.perf_counter() - start
            if step == "customers":  # as the hub's merge does, not timed
                conn.execute("ANALYZE billers_customer")
        conn.rollback()
    log("hub's tables alone: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    return times


def run_hub(label: str, var_dir: Path, database_url: str | None, file: Path):
    env = env_for(var_dir, database_url)
    manage(env, "migrate", "-v0")
    manage(env, "load_biller_preset", "imt", "--activate")
    log(f"{label}: importing")
    elapsed, rss, output = measured_import(env, file)
    log(f"{label}: {elapsed:.1f} s, peak RSS {rss:.0f} MB\n    {output}")
    return elapsed, rss


def write_long_line(path: Path, size: int, *, header: bool) -> None:
    """`size` bytes of one line without a line end; after the header and before
    the field's row end when `header`."""
    block = b"x" * (1 << 20)
    with open(path, "wb") as f:
        if header:
            f.write(HEADER.encode() + b"\r\nINV000000001|2026-01-01|2026-01-21|1.00|0.00|C1|")
        written = 0
        while written < size:
            written += f.write(block[: size - written])
        if header:
            f.write(b"|1 Main St||Peoria|AZ|85345|555-0100|c1@example.test|\r\n")
            f.write(b"INV000000002|2026-01-01|2026-01-21|2.00|0.00|C2|Two|2 Main St||Peoria|AZ")
            f.write(b"|85345|555-0101|c2@example.test|\r\n")


def long_line_run(work: Path, root: Path) -> None:
    """Peak RSS: a baseline file, then a file of one line, then a 300 MB field."""
    env = env_for(work / "sqlite", None)
    manage(env, "migrate", "-v0", root=root)
    manage(env, "load_biller_preset", "imt", "--activate", root=root)
    cases = [
        ("baseline: 1,000 rows", lambda p: generate(p, 1000)),
        ("one line of 512 MiB", lambda p: write_long_line(p, 512 << 20, header=False)),
        ("header + a 300 MB field", lambda p: write_long_line(p, 300_000_000, header=True)),
    ]
    results = []
    for n, (label, make) in enumerate(cases):
        file = work / f"long-{n}.txt"
        make(file)
        seconds, rss, output = measured_import(env, file, root=root, may_fail=True)
        log(f"{label}: {seconds:.1f} s, peak RSS {rss:.0f} MB\n    {output.splitlines()[-1]}")
        results.append((label, file.stat().st_size, seconds, rss))
        file.unlink()
        shutil.rmtree(work / "sqlite" / "invoice-files", ignore_errors=True)
    print()
    print(f"code: {root}; {platform.python_implementation()} {platform.python_version()}; "
          f"{datetime.date.today()}")  # fmt: skip
    print(f"{'':26} {'MB':>7} {'seconds':>8} {'peak RSS MB':>12}")
    for label, size, seconds, rss in results:
        print(f"{label:26} {size / 1e6:7.0f} {seconds:8.1f} {rss:12.0f}")
    peak = max(rss for *_, rss in results[1:])
    base = results[0][3]
    print(
        f"\nlong lines: peak {peak:.0f} MB ({peak - base:+.0f} MB over the baseline) "
        f"< {LONG_LINE_TARGET_MB} MB: {'met' if peak < LONG_LINE_TARGET_MB else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/icintegrations_i5_bench",
        help="PostgreSQL database for the run: dropped and created afresh.",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory.")
    parser.add_argument(
        "--long-line-only",
        action="store_true",
        help="Only the memory of long lines (see the module's docstring).",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="The checkout whose manage.py runs the import."
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ici-bench-files-"))
    try:
        if args.long_line_only:
            long_line_run(work, args.root.resolve())
            return
        file = work / "imt.txt"
        log(f"generating {args.rows:,} rows")
        generate(file, args.rows)
        size_mb = file.stat().st_size / 1e6
        log(f"file: {size_mb:.0f} MB")

        sqlite_s, sqlite_rss = run_hub("SQLite", work / "sqlite", None, file)
        pg_recreate(args.database_url)
        pg_s, pg_rss = run_hub("PostgreSQL", work / "pg", args.database_url, file)
        copy_s = pg_copy_floor(args.database_url, file)
        tables = pg_table_floor(args.database_url)
        tables_s = sum(tables.values())

        ratio = pg_s / copy_s
        print()
        print(
            f"{args.rows:,} rows, {size_mb:.0f} MB; {platform.python_implementation()} "
            f"{platform.python_version()}; {datetime.date.today()}"
        )
        print(f"{'':34} {'seconds':>8} {'rows/s':>9} {'peak RSS MB':>12}")
        for name, seconds, rss in (
            ("hub, SQLite", sqlite_s, sqlite_rss),
            ("hub, PostgreSQL", pg_s, pg_rss),
            ("PostgreSQL COPY (floor)", copy_s, None),
            ("hub's tables alone (see README)", tables_s, None),
        ):
            rss_text = f"{rss:12.0f}" if rss is not None else f"{'-':>12}"
            print(f"{name:34} {seconds:8.1f} {args.rows / seconds:9,.0f} {rss_text}")
        print(
            "  of which "
            + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in tables.items())
            + f": {tables_s / copy_s:.1f}x COPY before any reading or conversion"
        )
        print()

        def verdict(ok):
            return "met" if ok else "MISSED"

        peak = max(sqlite_rss, pg_rss)
        print(f"peak memory {peak:.0f} MB < {MEMORY_TARGET_MB} MB: {verdict(peak < 300)}")
        print(
            f"PostgreSQL {ratio:.1f}x COPY <= {COPY_RATIO_TARGET:.0f}x: "
            f"{verdict(ratio <= COPY_RATIO_TARGET)}"
        )
        print(
            f"SQLite {sqlite_s:.1f} s < {SQLITE_TARGET_S:.0f} s: "
            f"{verdict(sqlite_s < SQLITE_TARGET_S)}"
        )
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
