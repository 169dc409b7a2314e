"""/metrics under gunicorn with several workers: with PROMETHEUS_MULTIPROC_DIR
every scrape adds up the counts of every worker, whichever worker answers it,
and the figures read from the database are not multiplied by the workers."""

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from billers.services.api_clients import api_client_create
from icintegrations.gunicorn_conf import multiproc_dir_clean
from payments.models import DeliveryStatus
from tests.payments.factories import DeliveryFactory
from tests.support.gunicorn import gunicorn_running

TOKEN = "metrics-token-for-the-gunicorn-test"
LOOKUPS = 6
SCRAPES = 8


def hold_a_worker(base: str) -> socket.socket:
    """Keep the next free sync worker busy: it reads a request whose headers have
    not ended, so the other worker answers every connection meanwhile."""
    url = urlsplit(base)
    held = socket.create_connection((url.hostname, url.port), timeout=10)
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.3)  # accepted by that worker before the next connection comes
    return held


def release(held: socket.socket) -> None:
    with held:
        held.sendall(b"\r\n")
        assert held.recv(64).startswith(b"HTTP/1.1 200")


def lookup(base: str, api_token: str, n: int) -> None:
    response = requests.get(
        f"{base}/api/v1/billers/1367/invoices/NOSUCH{n}",
        headers={"Authorization": f"Bearer {api_token}"},
        timeout=10,
    )
    assert response.status_code == 404, response.text


def scrape(base: str) -> dict[tuple[str, tuple], float]:
    response = requests.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.mark.django_db(transaction=True)
def test_every_scrape_adds_up_the_counts_of_every_gunicorn_worker(tmp_path, imt):
    # Given 3 pending deliveries and a stale metric file left by an earlier run.
    for _ in range(3):
        DeliveryFactory(status=DeliveryStatus.PENDING)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999999.db").write_bytes(b"left over")
    _, api_token = api_client_create(name="payer-site", bids=[1367])
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "ICI_METRICS_TOKEN": TOKEN}

    with gunicorn_running(
        tmp_path / "gunicorn.log", workers=2, env=env,
        args=("-c", "python:icintegrations.gunicorn_conf"),
    ) as base:  # fmt: skip
        assert not (metrics_dir / "counter_999999999.db").exists()  # wiped at start
        # When N lookups are answered, half by each worker: the first half while
        # worker A is held, the second while worker B is.
        held_a = hold_a_worker(base)
        for n in range(LOOKUPS // 2):
            lookup(base, api_token, n)  # by B
        held_b = hold_a_worker(base)  # B, the only free one
        release(held_a)
        for n in range(LOOKUPS // 2, LOOKUPS):
            lookup(base, api_token, n)  # by A
        release(held_b)
        # Then every scrape, whichever worker answers it, counts all N.
        for _ in range(SCRAPES):
            samples = scrape(base)
            lookups = ("ici_rtdr_lookups_total", (("outcome", "invoice_not_found"),))
            assert samples[lookups] == LOOKUPS
            timings = ("ici_rtdr_lookup_seconds_count", (("outcome", "invoice_not_found"),))
            assert samples[timings] == LOOKUPS
            # ... and the database's figures once, not once per worker.
            assert samples[("ici_deliveries", (("status", "pending"),))] == 3
    pids = {path.stem.rpartition("_")[2] for path in metrics_dir.glob("counter_*.db")}
    assert len(pids) == 2, "both workers answered lookups (and wrote their counts)"


def test_the_start_keeps_the_files_of_running_processes(tmp_path):
    import os

    (tmp_path / f"counter_{os.getppid()}.db").write_bytes(b"")  # a running process
    (tmp_path / "histogram_999999999.db").write_bytes(b"")  # gone
    assert multiproc_dir_clean(tmp_path) == ["histogram_999999999.db"]
    assert (tmp_path / f"counter_{os.getppid()}.db").exists()
