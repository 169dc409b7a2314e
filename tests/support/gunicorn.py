"""The hub under gunicorn, in a subprocess, on the test database (a test that
uses it needs `django_db(transaction=True)`, so that gunicorn sees its rows)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database, as DATABASE_URL for another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn_running(
    logfile: Path, *, workers: int = 1, env: dict | None = None, args: tuple = ()
) -> Iterator[str]:
    """Start gunicorn (sync workers) on 127.0.0.1; yields its base URL once
    /healthz answers; stops it (SIGTERM, then SIGKILL) on exit."""
    port = free_port()
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "icintegrations.settings_test",
        "DATABASE_URL": database_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        **(env or {}),
    }
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync",
            "-b", f"127.0.0.1:{port}", "--error-logfile", str(logfile), *args,
            "icintegrations.wsgi:application",
        ],
        cwd=ROOT, env=environ, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(f"{base}/healthz", proc, logfile)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _wait_up(url: str, proc: subprocess.Popen, logfile: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {logfile.read_text(errors='replace')}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start: {logfile.read_text(errors='replace')}")
