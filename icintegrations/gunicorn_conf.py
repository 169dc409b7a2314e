"""gunicorn's hooks for prometheus-client's multiprocess mode (`gunicorn -c
python:icintegrations.gunicorn_conf ...`, as in the Procfile). Everything else
(bind, workers) stays on the command line.

With PROMETHEUS_MULTIPROC_DIR set, every process (each gunicorn worker, each
qcluster worker) writes its counts to files named after its pid in that
directory, and `/metrics` adds them up (icintegrations.health):

- `on_starting` (the master, before the first fork) creates the directory and
  removes the files of processes that no longer run: the counts of an earlier
  run are not added to this one's. The files of processes still running (a
  qcluster on the same machine, started before this gunicorn) are kept.
- `child_exit` does prometheus-client's bookkeeping for a worker that exited
  (`mark_process_dead`: its live gauges; the hub has none today, counters of a
  dead worker still count until the next start).

Without PROMETHEUS_MULTIPROC_DIR both do nothing.
"""

import os
from pathlib import Path

_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running
        return True
    return True


def multiproc_dir_clean(directory: Path) -> list[str]:
    """Remove the metric files (`<kind>_<pid>.db`) of processes not running;
    returns the names removed."""
    directory.mkdir(parents=True, exist_ok=True)
    removed = []
    for path in directory.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and _running(int(pid)) and int(pid) != os.getpid():
            continue
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def on_starting(server) -> None:
    directory = os.environ.get(_ENV)
    if directory:
        removed = multiproc_dir_clean(Path(directory))
        server.log.info("%s=%s: %d old metric file(s) removed", _ENV, directory, len(removed))


def child_exit(server, worker) -> None:
    if os.environ.get(_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
