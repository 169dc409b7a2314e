"""`python -m icintegrations.worker [qcluster options]`: `manage.py qcluster` for
process managers that signal the whole process group on stop (honcho and foreman
on Ctrl-C, `docker stop` of a shell entrypoint). The Procfile's worker.

django-q2 stops gracefully on SIGTERM (or SIGINT) to its main process only: the
current tasks end, then the cluster. Its sentinel and workers take SIGTERM with
the default action, so a SIGTERM to the whole group kills them wherever they are
and leaves the main process waiting on a lock they held, until the manager's
SIGKILL (README "Running workers").

This runs qcluster in a session of its own, passes SIGTERM and SIGINT to its main
process alone, and exits with its exit code. Should this process die first (a
manager's SIGKILL after its grace period), the cluster is told to stop too
(Linux's parent-death signal), and finishes its current tasks on its own.
It imports nothing of Django: it is a few lines of signal plumbing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from types import FrameType

PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux only)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def main(argv: list[str]) -> int:
    env = {"DJANGO_SETTINGS_MODULE": "icintegrations.settings", **os.environ}
    cluster = subprocess.Popen(
        [sys.executable, "-m", "django", "qcluster", *argv],
        env=env,
        start_new_session=True,
        preexec_fn=_stop_with_parent,  # this process runs no threads: safe
    )

    def forward(signum: int, frame: FrameType | None) -> None:
        if cluster.poll() is None:
            cluster.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGHUP, forward)
    return cluster.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
