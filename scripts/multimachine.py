"""`make multimachine`: the hub as if on four machines, on PostgreSQL and Redis.

Starts everything itself and stops it again. A fresh, migrated PostgreSQL database
(ICI_MULTI_DATABASE_URL, its name must contain `multi`), an emptied Redis database
(ICI_MULTI_REDIS_URL), both presets' billers pointed at the partner sandboxes it
starts, an API client for them; then two gunicorn web processes and two
`qcluster` processes, each with its own private ICI_VAR_DIR, in ICI_MODE=production
with the values of README's "Deploying" (fresh keys), as if each were a machine
behind the TLS proxy (every request carries `X-Forwarded-Proto: https`).

Invoice files are the only state the processes share besides PostgreSQL and Redis.
ICI_MULTI_STORAGE=s3 (the default) starts a moto S3 server, creates the bucket,
gives every process the ICI_S3_* settings and keeps each process's
ICI_INVOICE_FILE_DIR private, so nothing is shared on disk;
ICI_MULTI_STORAGE=shared-dir gives every process the same ICI_INVOICE_FILE_DIR,
as a volume every machine mounts would.

Then, as a payer site and a partner would: uploads an IMT invoice file of 100
invoices through web 1 and waits for it through web 2, whose BIF it downloads;
looks up 100 CitizenServe and the 100 IMT invoices and pays each of them, 200
payments alternately through both webs; SIGKILLs the second qcluster's process
group (the machine is lost) while it has partner calls under way (more calls
have just started than one machine has workers), and waits for the other
cluster and the sweep to finish every delivery. It checks that every
payment is posted exactly once in the sandboxes' ledgers (and answers `posted`
through the web that did not take it), that both webs answer /readyz 200, and
that both webs' /metrics give the database's figures. Exits non-zero on any
failed check, with the tail of every process's log.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
DATABASE_URL = os.environ.get(
    "ICI_MULTI_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/icintegrations_multi"
)
REDIS_URL = os.environ.get("ICI_MULTI_REDIS_URL", "redis://127.0.0.1:6379/5")
# Where invoice files live: `s3` (a moto S3 store every machine reaches; each
# machine's ICI_INVOICE_FILE_DIR private), or `shared-dir` (one
# ICI_INVOICE_FILE_DIR for all, as a mounted volume).
STORAGE = os.environ.get("ICI_MULTI_STORAGE") or "s3"
SETTLE_SECONDS = float(os.environ.get("ICI_MULTI_SETTLE_SECONDS", "180"))
PER_BILLER = 100  # invoices, and payments, per biller: 200 in all
CITIZENSERVE, IMT = "2249", "1367"  # the presets' billers
ZIP = {CITIZENSERVE: "85345", IMT: "62701"}
OPEN = ("pending", "in_flight", "reconciling")
# Seconds each sandbox takes per call while the payments go out: the workers
# (2 x 2) then fall behind the payer, so the killed machine has calls in flight.
PAYMENT_LATENCY_MS = 200
# The pump tuned so that what the lost machine held comes back within the run:
# its in-flight calls after a 5 s lease, its lost tasks 10 s after they were
# enqueued, at the sweep's next run (every minute, the shortest schedule).
PUMP_ENV = {
    "ICI_Q_NAME": "icintegrations-multi",
    "ICI_Q_WORKERS": "2",
    "ICI_PUMP_SWEEP_MINUTES": "1",
    "ICI_PUMP_REQUEUE_SECONDS": "10",
    "ICI_PUMP_LEASE_SECONDS": "5",
    "ICI_PUMP_RECONCILE_DELAY": "1",
    "ICI_PUMP_BACKOFF_BASE": "0.5",
    "ICI_PUMP_BACKOFF_CAP": "4",
    "ICI_PARTNER_READ_TIMEOUT": "3",
}
# README "Deploying", "Behind a proxy": what check --deploy passes with (.ci/run).
PRODUCTION_ENV = {
    "ICI_MODE": "production",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://127.0.0.1",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
    "DJANGO_SECURE_HSTS_PRELOAD": "True",
    "DJANGO_SECURE_SSL_REDIRECT": "True",
    "ICI_TRUSTED_PROXY_COUNT": "1",
}
VIA_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


class Failed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise Failed(f"nothing is listening on 127.0.0.1:{port} after {timeout:.0f} s")


def database(action: str) -> None:
    """Create (after dropping) or drop the run's database; only one named *multi*."""
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]*multi[a-z0-9_]*", name):
        raise SystemExit(f"multimachine: refusing to recreate {name!r}: its name must hold 'multi'")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            connection.execute(f'CREATE DATABASE "{name}"')


def psycopg_url() -> str:
    return urlunsplit(urlsplit(DATABASE_URL)._replace(scheme="postgresql"))


def query(sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(psycopg_url()) as connection:
        return connection.execute(sql).fetchall()


def counts(table: str) -> dict[str, int]:
    return dict(query(f"SELECT status, count(*) FROM {table} GROUP BY status"))  # type: ignore[arg-type]


class Run:
    """The processes of one run, each in its own process group, and their logs."""

    def __init__(self, root: Path):
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir()
        self.children: dict[str, subprocess.Popen] = {}
        self.started = time.monotonic()
        self.timings: list[tuple[str, float]] = []
        self.checks: list[tuple[bool, str]] = []

    def mark(self, what: str) -> None:
        at = time.monotonic() - self.started
        self.timings.append((what, at))
        print(f"multimachine: {at:6.1f} s  {what}", flush=True)

    def check(self, ok: bool, what: str) -> None:
        self.checks.append((ok, what))
        print(f"multimachine: {'ok  ' if ok else 'FAIL'} {what}", flush=True)

    def run(self, env: dict[str, str], *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if result.returncode:
            raise Failed(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self, name: str, env: dict[str, str], *argv: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed at the process's end
        child = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children[name] = child
        return child

    def kill(self, name: str) -> None:
        """The machine is lost: SIGKILL to every process of the group at once."""
        os.killpg(self.children[name].pid, signal.SIGKILL)
        self.children[name].wait()

    def stop(self) -> None:
        """SIGTERM to each main process (qcluster and gunicorn stop their own
        children), then SIGKILL to whatever of its group is left after 15 s."""
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.wait()

    def log_tails(self, lines: int = 25) -> None:
        for log in sorted(self.logs.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- {log.name} (last {len(tail)} lines)", *tail, sep="\n")


class Web:
    """One web machine as the payer site reaches it: through the TLS proxy."""

    def __init__(self, name: str, port: int, token: str):
        import requests

        self.name, self.base = name, f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", **VIA_PROXY})

    def get(self, path: str, **kwargs):
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs):
        return self.session.post(self.base + path, timeout=30, **kwargs)


def sandbox_invoices(partner: str) -> list[tuple[str, Decimal, str]]:
    """(invoice number, balance, account) of the invoices this run pays at `partner`."""
    rows = []
    for n in range(PER_BILLER):
        number = f"MM{partner[:2].upper()}-{n:05d}"
        account = number if partner == "citizenserve" else f"MMC{n:05d}"
        rows.append((number, Decimal(10 + n % 90) + Decimal("0.25"), account))
    return rows


def imt_invoice_file(invoices: list[tuple[str, Decimal, str]]) -> bytes:
    """IMT's pipe-delimited export of these invoices (the columns of its preset's mapping)."""
    header = (
        "invoice_number|invoice_date|due_date|amount_due|past_due_amount|customer_id|"
        "customer_name|address|address2|city|state|ZIP|phone|email|registration value"
    )
    rows = [
        f"{number}|2026-11-01|2026-11-21|{balance:.2f}|0.00|{account}|Multi Payer {n}|"
        f"{n} Main St||Springfield|IL|{ZIP[IMT]}|555-0100|payer{n}@example.test|"
        for n, (number, balance, account) in enumerate(invoices)
    ]
    return ("\n".join([header, *rows]) + "\n").encode()


def storage_env(stack: ExitStack, root: Path) -> dict[str, str]:
    """The environment that puts invoice files where every machine finds them."""
    if STORAGE == "shared-dir":
        return {"ICI_INVOICE_FILE_DIR": str(root / "shared-invoice-files")}
    if STORAGE != "s3":
        raise SystemExit(
            f"multimachine: ICI_MULTI_STORAGE must be s3 or shared-dir, not {STORAGE!r}"
        )
    import boto3

    from icintegrations.testing.s3 import moto_server

    endpoint = stack.enter_context(moto_server())
    env = {
        "ICI_INVOICE_FILE_STORAGE": "s3",
        "ICI_S3_BUCKET": "ici-multimachine",
        "ICI_S3_ENDPOINT_URL": endpoint,
        "ICI_S3_REGION": "us-east-1",
        "ICI_S3_ACCESS_KEY_ID": "testing",
        "ICI_S3_SECRET_ACCESS_KEY": "testing",
        "ICI_S3_PREFIX": "invoice-files/",
        "ICI_S3_ADDRESSING_STYLE": "path",
    }
    boto3.client(
        "s3", endpoint_url=endpoint, region_name=env["ICI_S3_REGION"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).create_bucket(Bucket=env["ICI_S3_BUCKET"])  # fmt: skip
    return env  # each machine keeps its own ICI_INVOICE_FILE_DIR (ICI_VAR_DIR's)


def set_up(run: Run, release: dict[str, str]) -> tuple[str, dict[str, str], dict[str, list]]:
    """Database, billers, API client, sandboxes and their invoices: the API token,
    each sandbox's URL and each partner's invoices."""
    import redis
    import requests

    from partners.sandbox import citizenserve, imt

    database("create")
    redis.Redis.from_url(REDIS_URL).flushdb()
    run.run(release, "migrate", "--noinput", "-v", "0")
    # --activate is demo-only (it bypasses the go-live checklist): run in test mode
    # on the same database, as an operator would take the billers live in the admin.
    run.run({**release, "ICI_MODE": "test"}, "load_biller_preset", "--activate")
    token = run.run(
        release, "create_api_client", "multimachine", "--biller", CITIZENSERVE, "--biller", IMT
    ).strip().splitlines()[-1]  # fmt: skip
    ports = {"citizenserve": free_port(), "imt": free_port()}
    for partner, port in ports.items():
        run.start(
            f"sandbox-{partner}", release,
            PYTHON, "manage.py", "partner_sandbox", partner, "--port", str(port),
        )  # fmt: skip
    for port in ports.values():
        wait_for_port(port)
    urls = {partner: f"http://127.0.0.1:{port}" for partner, port in ports.items()}
    # A demo-only command (it rewrites partner URLs and credentials): run in test
    # mode on the same database and keys, as an operator would set them in the admin.
    run.run(
        {**release, "ICI_MODE": "test"}, "point_billers_at_sandboxes",
        "--citizenserve", urls["citizenserve"], "--imt", urls["imt"],
    )  # fmt: skip
    invoices = {"citizenserve": sandbox_invoices("citizenserve"), "imt": sandbox_invoices("imt")}
    for partner, records in (("citizenserve", citizenserve), ("imt", imt)):
        for number, balance, account in invoices[partner]:
            record = records.open_invoice(number, balance=balance, account=account, name=number)
            requests.post(
                f"{urls[partner]}/_sandbox/invoices", json=record, timeout=10
            ).raise_for_status()
    run.mark("database, billers, sandboxes and their 200 invoices ready")
    return token, urls, invoices


def start_machines(run: Run, envs: dict[str, dict[str, str]], token: str) -> list[Web]:
    """Static files on each web machine, then 2 gunicorn and 2 qcluster."""
    webs = [("web1", free_port()), ("web2", free_port())]
    collecting = [
        subprocess.Popen(
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=envs[name],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for name, _ in webs
    ]
    if any(p.wait() for p in collecting):
        raise Failed("collectstatic failed")
    run.mark("static files collected on each web machine")
    for name, port in webs:
        run.start(
            name, envs[name],
            PYTHON, "-m", "gunicorn", "icintegrations.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--access-logfile", "-",
        )  # fmt: skip
    for name in ("worker1", "worker2"):
        run.start(name, envs[name], PYTHON, "manage.py", "qcluster")
    for _, port in webs:
        wait_for_port(port)
    run.mark("2 gunicorn (2 workers each) and 2 qcluster (2 workers each) up")
    return [Web(name, port, token) for name, port in webs]


def invoice_file_round_trip(run: Run, webs: list[Web], invoices: list) -> None:
    """IMT's file through web 1; its status and BIF through web 2."""
    answer = webs[0].post(
        f"/api/v1/billers/{IMT}/invoice-files?name=multimachine.txt",
        data=imt_invoice_file(invoices), headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    if answer.status_code != 202:
        raise Failed(f"the upload answered {answer.status_code}: {answer.text[:500]}")
    path = f"/api/v1/billers/{IMT}/invoice-files/{answer.json()['id']}"
    deadline = time.monotonic() + 60
    while (file := webs[1].get(path).json())["status"] in ("queued", "processing"):
        if time.monotonic() > deadline:
            raise Failed(f"the invoice file is still {file['status']} after 60 s")
        time.sleep(0.5)
    run.check(
        file["status"] == "done" and file["accepted"] == PER_BILLER,
        f"invoice file uploaded through web1 is {file['status']} through web2 "
        f"({file['accepted']} rows accepted, {file['rejected']} refused)",
    )
    bif = webs[1].get(f"{path}/bif")
    lines = bif.content.decode("utf-8").split("\r\n") if bif.status_code == 200 else [""]
    heads = Counter(line.split("|", 1)[0] for line in lines if line)
    run.check(
        bif.status_code == 200
        and lines[0].startswith("FH|")
        and heads == {"FH": 1, "IH": PER_BILLER, "CR": PER_BILLER, "ID": PER_BILLER},
        f"its BIF through web2: {bif.status_code}, {len(bif.content)} bytes, rows {dict(heads)}",
    )
    run.mark("invoice file done, BIF downloaded")


def look_up(run: Run, webs: list[Web], plan: list[tuple[str, str]]) -> dict[str, dict]:
    """The payer looks each invoice up first (RTDR), alternately through the two webs."""
    found = {}
    for i, (bid, number) in enumerate(plan):
        answer = webs[i % 2].get(f"/api/v1/billers/{bid}/invoices/{number}?zip={ZIP[bid]}")
        if answer.status_code != 200:
            raise Failed(f"lookup {bid}/{number}: {answer.status_code} {answer.text[:300]}")
        found[number] = answer.json()
    run.mark(f"{len(plan)} invoices looked up (RTDR) through both webs")
    return found


def pay_and_lose_a_machine(
    run: Run, webs: list[Web], plan: list[tuple[str, str]], found: dict[str, dict]
) -> tuple[dict[str, tuple[int, str]], int]:
    """Pays every invoice, alternately through the two webs (one payer thread
    each); half-way, worker2's machine is lost while it has calls in flight.
    Returns payment GUID -> (the web that took it, BID), and how many calls
    were under way."""

    def pay(i: int) -> str:
        bid, number = plan[i]
        guid = str(uuid.uuid4())
        answer = webs[i % 2].post(
            f"/api/v1/billers/{bid}/payments",
            json={
                "payment_guid": guid,
                "invoice_number": number,
                "account_number": found[number]["account_number"],
                "amount": found[number]["balance_due"],
                "service_fee": "1.95",
                "payment_source": ("Web CC", "IVR Eck")[i % 2],
                "approval_code": f"MM{i}",
                "payer_name": f"Multi Payer {i}",
                "paid_at": "2026-11-20T10:15:00Z",
            },
        )
        if answer.status_code != 202:
            raise Failed(f"payment {i} ({bid}/{number}): {answer.status_code} {answer.text}")
        return guid

    guids: dict[str, tuple[int, str]] = {}
    under_way = -1
    with ThreadPoolExecutor(max_workers=2) as payers:
        for pair in range(0, len(plan), 2):
            futures = {i: payers.submit(pay, i) for i in (pair, pair + 1)}
            for i, future in futures.items():
                guids[future.result()] = (i % 2, plan[i][0])
            if under_way < 0 and len(guids) >= len(plan) // 2:
                under_way = wait_for_calls_on_both_machines()
                run.kill("worker2")
                run.mark(f"SIGKILL to worker2's process group, {under_way} calls under way")
    run.mark(f"{len(guids)} payments accepted (202), {len(plan) // 2} through each web")
    return guids, under_way


def wait_for_calls_on_both_machines(timeout: float = 10) -> int:
    """Waits until more partner calls have started in the last half sandbox
    latency than one machine has workers: at least one of them is worker2's,
    and it is still under way when the SIGKILL lands. A call is an attempt
    written without an outcome (the pump writes it before the call). Returns
    how many such calls there were (fewer than needed after `timeout`: the
    check on cut calls then says so)."""
    import psycopg

    needed = int(PUMP_ENV["ICI_Q_WORKERS"]) + 1
    deadline = time.monotonic() + timeout
    with psycopg.connect(psycopg_url(), autocommit=True) as connection:
        while True:
            row = connection.execute(
                "SELECT count(*) FROM payments_deliveryattempt WHERE outcome = '' AND "
                f"started_at > now() - interval '{PAYMENT_LATENCY_MS // 2} milliseconds'"
            ).fetchone()
            fresh = row[0] if row else 0
            if fresh >= needed or time.monotonic() > deadline:
                return fresh
            time.sleep(0.005)


def settle(run: Run) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while (waiting := sum(counts("payments_delivery").get(s, 0) for s in OPEN)) > 0:
        if time.monotonic() > deadline:
            raise Failed(f"{waiting} deliveries still open after {SETTLE_SECONDS:.0f} s")
        time.sleep(1)
    run.mark("every delivery final")


def check_exactly_once(
    run: Run, webs: list[Web], guids: dict[str, tuple[int, str]], urls: dict[str, str]
) -> int:
    """Each payment once in the partners' own ledgers, and `posted` through the
    web that did not take it. Returns how many calls the lost machine cut."""
    import requests

    ledgers = [requests.get(f"{url}/_sandbox/ledger", timeout=10).json() for url in urls.values()]
    applied = Counter(p["key"] for ledger in ledgers for p in ledger["payments"])
    once = [g for g in guids if applied[g] == 1]
    twice = [g for g in guids if applied[g] > 1]
    missing = [g for g in guids if applied[g] == 0]
    strangers = [k for k in applied if k not in guids]
    run.check(
        len(once) == len(guids) == 2 * PER_BILLER and not twice and not missing and not strangers,
        f"sandbox ledgers: {len(once)} of {len(guids)} posted exactly once, {len(twice)} "
        f"twice, {len(missing)} missing, {len(strangers)} unknown",
    )
    statuses: Counter[str] = Counter()
    for guid, (taken_by, bid) in guids.items():
        answer = webs[1 - taken_by].get(f"/api/v1/billers/{bid}/payments/{guid}")
        statuses[answer.json().get("status")] += 1
    run.check(
        statuses == {"posted": len(guids)},
        f"payment status through the other web: {dict(statuses)}",
    )
    cut = query("SELECT count(*) FROM payments_deliveryattempt WHERE error_code = 'worker_lost'")
    run.check(cut[0][0] > 0, f"the lost machine had calls in flight: {cut[0][0]} cut, reconciled")
    return cut[0][0]


def check_probes_and_metrics(run: Run, webs: list[Web], metrics_token: str) -> None:
    for web in webs:
        ready = web.get("/readyz")
        run.check(ready.status_code == 200, f"{web.name} /readyz: {ready.status_code}")
    deliveries, files = counts("payments_delivery"), counts("invoicefiles_invoicefile")
    for web in webs:
        scraped = web.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
        figures = metrics(scraped.text) if scraped.status_code == 200 else {}
        by_status = {s: int(v) for (name, s), v in figures.items() if name == "ici_deliveries"}
        waiting = {
            s: int(v) for (name, s), v in figures.items() if name == "ici_invoice_files_waiting"
        }
        run.check(
            scraped.status_code == 200
            and {s: n for s, n in by_status.items() if n} == deliveries
            and set(waiting) == {"queued", "processing"}
            and all(n == files.get(s, 0) for s, n in waiting.items()),
            f"{web.name} /metrics: deliveries {by_status} (database {deliveries}); "
            f"files waiting {waiting} (database {files})",
        )
    run.mark("checks done")


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="ici-multi-"))
    run = Run(root)
    from cryptography.fernet import Fernet

    fernet_key = Fernet.generate_key().decode()
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ICI_", "DJANGO_", "DATABASE_URL", "PROMETHEUS_"))
    }
    common = {
        **inherited,
        **PUMP_ENV,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "icintegrations.settings",
        "DATABASE_URL": DATABASE_URL,
        "ICI_REDIS_URL": REDIS_URL,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ICI_FIELD_ENCRYPTION_KEYS": fernet_key,
        "ICI_METRICS_TOKEN": secrets.token_urlsafe(24),
        "ICI_LOG_LEVEL": os.environ.get("ICI_LOG_LEVEL", "WARNING"),
    }

    def machine(name: str) -> dict[str, str]:
        (root / name).mkdir()
        return {**common, "ICI_VAR_DIR": str(root / name)}

    with ExitStack() as stack:
        try:
            common.update(storage_env(stack, root))
            token, urls, invoices = set_up(run, machine("release"))
            envs = {name: machine(name) for name in ("web1", "web2", "worker1", "worker2")}
            webs = start_machines(run, envs, token)
            invoice_file_round_trip(run, webs, invoices["imt"])
            plan = [
                (bid, invoices[partner][n][0])
                for n in range(PER_BILLER)
                for bid, partner in ((CITIZENSERVE, "citizenserve"), (IMT, "imt"))
            ]
            found = look_up(run, webs, plan)
            for url in urls.values():
                requests_post(f"{url}/_sandbox/faults", {"latency_ms": PAYMENT_LATENCY_MS})
            guids, under_way = pay_and_lose_a_machine(run, webs, plan, found)
            settle(run)
            cut = check_exactly_once(run, webs, guids, urls)
            check_probes_and_metrics(run, webs, common["ICI_METRICS_TOKEN"])
        except Failed as e:
            run.check(False, f"FAILED: {e}")
        finally:
            run.stop()
            database("drop")
            redis_flush()
        failed = [what for ok, what in run.checks if not ok]
        if failed:
            run.log_tails()
        else:
            print(
                "\nmultimachine: summary\n"
                "  machines: web1, web2 (gunicorn, ICI_MODE=production), worker1, worker2 "
                f"(qcluster), 2 partner sandboxes; invoice files on {STORAGE}\n"
                f"  {len(guids)} payments posted exactly once; worker2 lost with {under_way} "
                f"calls under way, {cut} calls cut and reconciled\n"
                + "".join(f"  {at:6.1f} s  {what}\n" for what, at in run.timings)
            )
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"multimachine: {len(run.checks) - len(failed)} checks passed, {len(failed)} failed; "
        f"stopped everything, {time.monotonic() - run.started:.0f} s in all",
        flush=True,
    )
    return 1 if failed else 0


def requests_post(url: str, payload: dict) -> None:
    import requests

    requests.post(url, json=payload, timeout=10).raise_for_status()


def redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def metrics(text: str) -> dict[tuple[str, str], float]:
    """(metric, its status label) -> value, from the Prometheus text format."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r'(\w+)\{status="(\w+)"\} (\S+)', line)
        if match:
            found[(match[1], match[2])] = float(match[3])
    return found


if __name__ == "__main__":
    sys.exit(main())
