"""A real django-q2 cluster (`manage.py qcluster`) in a child process, on the
database and broker the calling process uses: for the chaos test and the
delivery benchmark, where workers must be separate processes that can die."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this process is connected to (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


# What /proc/PID/wchan says of a process waiting on a socket (a partner call
# or a database round trip, with a timeout: poll()).
SOCKET_WAITS = ("poll_schedule_timeout", "do_poll", "do_select", "wait_woken", "sk_wait_data")


class QCluster:
    def __init__(self, *, workers: int, env: dict[str, str] | None = None, log: Path | None = None):
        self.workers = workers
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "icintegrations.settings",
            "ICI_MODE": os.environ.get("ICI_MODE", "test"),
            "DATABASE_URL": database_url(),
            "ICI_Q_WORKERS": str(workers),
            **(env or {}),
        }
        if getattr(settings, "ICI_REDIS_URL", ""):
            self.env["ICI_REDIS_URL"] = settings.ICI_REDIS_URL
        else:
            self.env.pop("ICI_REDIS_URL", None)
        self.log = log or ROOT / "var" / "qcluster-test.log"
        self.process: subprocess.Popen | None = None
        self.killed: list[int] = []

    def __enter__(self) -> QCluster:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> QCluster:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while len(self.worker_pids()) < self.workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"qcluster did not start; see {self.log}")
            time.sleep(0.2)
        return self

    def _children(self, pid: int) -> list[int]:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return sorted(int(p) for p in text.split())

    def worker_pids(self) -> list[int]:
        """The worker processes: the Sentinel (the main process's child) spawns
        its workers first, then the monitor and the pusher."""
        if self.process is None:
            return []
        sentinels = self._children(self.process.pid)
        if not sentinels:
            return []
        children = self._children(sentinels[0])
        return children[: self.workers] if len(children) >= self.workers + 2 else []

    def kill_busy_worker(self) -> int | None:
        """SIGKILL a worker in the middle of a task, as the OOM killer would, if
        one is; returns its pid, or None (try again while there is work).

        Mid-task means waiting on a socket inside the task. Outside a task a
        django-q2 worker holds locks the cluster shares: the task queue's while
        it waits for work, its timer's while it hands back a result. Killed
        there, it takes the lock with it and the cluster stalls until it is
        restarted (the README says so). That is django-q2's, not the pump's.
        """
        for pid in self.worker_pids():
            try:
                waiting_on = Path(f"/proc/{pid}/wchan").read_text()
            except OSError:
                continue
            if waiting_on.startswith(SOCKET_WAITS):
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
                return pid
        return None

    def stop(self) -> None:
        if self.process is None:
            return
        # SIGTERM to the main process only (to the whole group, qcluster hangs).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None
        self._log_file.close()
