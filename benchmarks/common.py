"""What the benchmark scripts share. They run as modules from the project root
(`python -m benchmarks.NAME`), so this module is `benchmarks.common`."""

import time
from urllib.parse import urlsplit, urlunsplit


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pg_recreate(database_url: str) -> None:
    """Drop and create the benchmark's own PostgreSQL database (never a shared one)."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if name in ("icintegrations", "test_icintegrations"):
        raise SystemExit(f"refusing to drop the shared database {name}")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
