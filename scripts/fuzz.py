"""`make fuzz`: schemathesis against a live hub on PostgreSQL and Redis.

Starts everything itself and stops it again: a fresh, migrated PostgreSQL
database (ICI_FUZZ_DATABASE_URL), an emptied Redis database (ICI_FUZZ_REDIS_URL),
the two billers of the presets pointed at the partner sandboxes it starts, an
API client token for them, and the hub (`manage.py runserver --noreload`,
ICI_MODE=test) on a free port. Then runs schemathesis (scripts/fuzz.toml: seed
15, checks not_a_server_error, status_code_conformance and
content_type_conformance) for ICI_FUZZ_SECONDS (default 140) against the schema
the hub serves, and exits non-zero on any finding: a 5xx, or a status or content
type the schema does not document. Everything talks to 127.0.0.1 only.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SCHEMATHESIS = str(Path(PYTHON).with_name("schemathesis"))
DATABASE_URL = os.environ.get(
    "ICI_FUZZ_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/icintegrations_fuzz"
)
REDIS_URL = os.environ.get("ICI_FUZZ_REDIS_URL", "redis://127.0.0.1:6379/4")
SECONDS = int(os.environ.get("ICI_FUZZ_SECONDS", "140"))
BILLERS = ("2249", "1367")  # the presets': CitizenServe (on demand) and IMT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"fuzz: nothing is listening on 127.0.0.1:{port} after {timeout:.0f} s")


def fresh_database() -> None:
    """Drop and create the fuzzing database (never another one: its name is checked)."""
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]*fuzz[a-z0-9_]*", name):
        raise SystemExit(f"fuzz: refusing to recreate {name!r}: its name must contain 'fuzz'")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def empty_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def main() -> int:
    files = Path(tempfile.mkdtemp(prefix="ici-fuzz-"))
    env = {
        **os.environ,
        "ICI_MODE": "test",
        "DJANGO_SETTINGS_MODULE": "icintegrations.settings",
        "DATABASE_URL": DATABASE_URL,
        "ICI_REDIS_URL": REDIS_URL,
        "ICI_VAR_DIR": str(files),
        "ICI_INVOICE_FILE_DIR": str(files / "invoice-files"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ICI_LOG_LEVEL": os.environ.get("ICI_LOG_LEVEL", "WARNING"),
    }

    def manage(*args: str) -> str:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True,
        ).stdout  # fmt: skip

    def start(*args: str, log: str) -> subprocess.Popen:
        out = open(files / log, "wb")  # noqa: SIM115 - closed with the process's end
        return subprocess.Popen(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    children: list[subprocess.Popen] = []
    try:
        fresh_database()
        empty_redis()
        manage("migrate", "--noinput", "-v", "0")
        manage("load_biller_preset", "--activate")
        sandboxes = {"citizenserve": free_port(), "imt": free_port()}
        for partner, port in sandboxes.items():
            children.append(
                start("partner_sandbox", partner, "--port", str(port), log=f"{partner}.log")
            )
        for port in sandboxes.values():
            wait_for_port(port)
        manage(
            "point_billers_at_sandboxes",
            "--citizenserve", f"http://127.0.0.1:{sandboxes['citizenserve']}",
            "--imt", f"http://127.0.0.1:{sandboxes['imt']}", "--demo-invoices",
        )  # fmt: skip
        billers = [arg for bid in BILLERS for arg in ("--biller", bid)]
        token = manage("create_api_client", "fuzz", *billers).strip().splitlines()[-1]
        port = free_port()
        children.append(start("runserver", f"127.0.0.1:{port}", "--noreload", log="hub.log"))
        wait_for_port(port)
        command = [
            SCHEMATHESIS, "--config-file", str(ROOT / "scripts" / "fuzz.toml"), "run",
            f"http://127.0.0.1:{port}/api/schema/?format=json",
            "--max-time", str(SECONDS),
            "--header", f"Authorization: Bearer {token}",
            "--report", "junit", "--report-dir", str(ROOT / ".schemathesis"),
        ]  # fmt: skip
        started = time.monotonic()
        print(f"fuzz: schemathesis for {SECONDS} s against the hub on 127.0.0.1:{port}")
        result = subprocess.run(command, cwd=ROOT)
        print(f"fuzz: {time.monotonic() - started:.0f} s, exit {result.returncode}")
        if result.returncode != 0:
            log = (files / "hub.log").read_text(errors="replace")
            print("fuzz: the hub's log (last 60 lines):", *log.splitlines()[-60:], sep="\n")
        return result.returncode
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        shutil.rmtree(files, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
