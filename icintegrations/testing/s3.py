"""A real S3 API on 127.0.0.1: moto's server mode (`moto[server]`, a dev extra)
in a child process, for the tests of the S3 storage of invoice files.

    with moto_server() as endpoint_url:   # "http://127.0.0.1:PORT"
        ...

Nothing leaves the machine: the server listens on 127.0.0.1 only, and its child
process gets dummy AWS credentials, never the caller's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        # Straight to 127.0.0.1, whatever proxy the environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{url}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answers, whatever it says
    except OSError:
        return False


@contextmanager
def moto_server(*, timeout: float = 30.0, attempts: int = 3) -> Iterator[str]:
    """Start `python -m moto.server` on a free port of 127.0.0.1, yield its URL,
    stop it. A port taken between choosing it and binding it: another port."""
    env = {**os.environ, **DUMMY_AWS_ENV}
    for attempt in range(attempts):
        port = _free_port()
        url = f"http://{HOST}:{port}"
        log = tempfile.TemporaryFile()  # its request log, read only if it fails
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while process.poll() is None and not _answers(url):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not answer on {url} within {timeout} s")
                time.sleep(0.1)
            if process.poll() is not None:
                if attempt + 1 < attempts:
                    continue
                log.seek(0)
                error = log.read().decode(errors="replace")
                raise RuntimeError(f"moto exited ({process.returncode}): {error[-2000:]}")
            yield url
            return
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
    raise RuntimeError("moto could not start")  # not reached
