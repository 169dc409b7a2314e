"""The Procfile's worker (`python -m icintegrations.worker`) under a process
manager that signals the whole group, as honcho does on Ctrl-C: the cluster stops
gracefully, and does not outlive a manager that SIGKILLs the worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from icintegrations.testing.qcluster import ROOT, QCluster


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        try:
            tasks = list(Path(f"/proc/{todo.pop()}/task").iterdir())
            children = {
                int(pid) for task in tasks for pid in (task / "children").read_text().split()
            }
        except OSError:
            continue
        found |= children
        todo.extend(children)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}; worker log:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def start_worker(log: Path) -> subprocess.Popen:
    """The worker as honcho starts a Procfile line: in a process group of its own."""
    process = subprocess.Popen(
        [sys.executable, "-m", "icintegrations.worker"],
        cwd=ROOT, env=QCluster(workers=2).env, start_new_session=True,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for(
        lambda: "running." in log.read_text() or process.poll() is not None,
        60, "the cluster did not start", log,
    )  # fmt: skip
    assert process.poll() is None, log.read_text()
    return process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.django_db(transaction=True)
def test_a_sigterm_to_the_whole_group_stops_the_cluster_gracefully(tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker(log)
    cluster = descendants(worker.pid)
    assert len(cluster) >= 4  # qcluster, its sentinel, workers, monitor, pusher

    os.killpg(worker.pid, signal.SIGTERM)  # what honcho sends on Ctrl-C

    assert worker.wait(timeout=30) == 0, log.read_text()
    assert "has stopped." in log.read_text()
    wait_for(lambda: not any(map(alive, cluster)), 10, "cluster processes left", log)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_by_its_manager_does_not_leave_its_cluster_running(tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker(log)
    cluster = descendants(worker.pid)

    os.killpg(worker.pid, signal.SIGKILL)  # honcho's SIGKILL after its grace period
    worker.wait(timeout=10)

    wait_for(lambda: not any(map(alive, cluster)), 30, "cluster outlived its worker", log)
    assert "has stopped." in log.read_text()
