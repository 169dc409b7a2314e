import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _django_check(**env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ICI_", "DATABASE_URL"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _django_check(ICI_MODE="production", ICI_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when ICI_MODE=production" in result.stderr


def test_production_refuses_to_start_without_encryption_keys(tmp_path):
    result = _django_check(
        ICI_MODE="production", DJANGO_SECRET_KEY="x" * 50, ICI_VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "ICI_FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_starts_with_its_keys(tmp_path, fernet_key):
    result = _django_check(
        ICI_MODE="production",
        DJANGO_SECRET_KEY="x" * 50,
        ICI_FIELD_ENCRYPTION_KEYS=fernet_key,
        ICI_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr


def test_the_redis_url_switches_the_broker(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='icintegrations.settings';"
        "django.setup(); from django.conf import settings; q = settings.Q_CLUSTER;"
        "print(q.get('redis'), q.get('orm'))"
    )
    base = {key: value for key, value in os.environ.items() if not key.startswith("ICI_")}
    base.pop("DATABASE_URL", None)
    base.update(ICI_MODE="demo", ICI_VAR_DIR=str(tmp_path))
    run = lambda env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    ).stdout.strip()
    assert run(base) == "None default"
    assert run({**base, "ICI_REDIS_URL": "redis://127.0.0.1:6379/9"}) == (
        "redis://127.0.0.1:6379/9 None"
    )


CONCURRENT_WRITERS = """
import os, threading
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "icintegrations.settings"
django.setup()
from django.db import connection, connections, transaction

with connection.cursor() as cursor:
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    cursor.execute("CREATE TABLE t (n INTEGER)")
errors = []

def writer():
    try:
        for n in range(200):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT COUNT(*) FROM t").fetchone()
                    cursor.execute("INSERT INTO t VALUES (%s)", [n])
    except Exception as e:
        errors.append(repr(e))
    finally:
        connections.close_all()

threads = [threading.Thread(target=writer) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    count = cursor.execute("SELECT COUNT(*) FROM t").fetchone()[0]
print(mode, count, errors)
"""


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path):
    # Three connections with the project's default SQLite settings (as the web
    # process and the workers have) read then write one file at the same time:
    # none meets "database is locked" (with SQLite's default DEFERRED
    # transactions, the read-then-write upgrade fails at once).
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ICI_", "DATABASE_URL"))
    }
    environment.update(ICI_MODE="demo", ICI_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", CONCURRENT_WRITERS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(maxsplit=2) == ["wal", "600", "[]"]


@pytest.mark.skipif(not settings.ICI_REDIS_URL, reason="set ICI_REDIS_URL to test the Redis broker")
def test_the_redis_broker_carries_a_task():
    from django_q.brokers import get_broker

    broker = get_broker("icintegrations-test")
    broker.purge_queue()
    assert broker.ping()
    broker.enqueue("payload-1")
    task = broker.dequeue()
    assert task and task[0][1] == b"payload-1"
    broker.purge_queue()


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="set DATABASE_URL to a PostgreSQL database to test it",
)
def test_postgresql_keeps_its_connections():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_s3_invoice_file_storage_refuses_to_start_without_a_bucket(tmp_path):
    result = _django_check(
        ICI_MODE="test", ICI_VAR_DIR=str(tmp_path), ICI_INVOICE_FILE_STORAGE="s3"
    )
    assert result.returncode != 0
    assert "ICI_S3_BUCKET must be set when ICI_INVOICE_FILE_STORAGE=s3" in result.stderr


def _invoice_file_storage(monkeypatch, **variables):
    import environ

    from icintegrations.settings import invoice_file_storage

    for name in list(os.environ):
        if name.startswith(("ICI_S3_", "ICI_INVOICE_FILE_STORAGE")):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return invoice_file_storage(environ.Env())


def test_invoice_files_are_kept_in_a_local_directory_by_default(monkeypatch):
    config = _invoice_file_storage(monkeypatch)

    assert config["BACKEND"] == "invoicefiles.services.storage.LocalInvoiceFileStorage"
    assert settings.STORAGES["invoicefiles"] == config


def test_the_s3_storage_is_private_never_overwrites_and_defaults_its_region_and_prefix(
    monkeypatch,
):
    config = _invoice_file_storage(
        monkeypatch, ICI_INVOICE_FILE_STORAGE="s3", ICI_S3_BUCKET="hub-files"
    )

    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert options["bucket_name"] == "hub-files"
    assert (options["region_name"], options["location"]) == ("us-east-1", "invoice-files/")
    assert options["endpoint_url"] is None and options["addressing_style"] is None
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["file_overwrite"] is False
    # No keys given: boto3's own chain (environment, ~/.aws, an instance role).
    assert "access_key" not in options and "secret_key" not in options


def test_the_s3_storage_takes_an_endpoint_keys_a_prefix_and_path_addressing(monkeypatch):
    options = _invoice_file_storage(
        monkeypatch,
        ICI_INVOICE_FILE_STORAGE="s3",
        ICI_S3_BUCKET="hub-files",
        ICI_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        ICI_S3_REGION="eu-west-3",
        ICI_S3_ACCESS_KEY_ID="key-id",
        ICI_S3_SECRET_ACCESS_KEY="not-a-real-secret",
        ICI_S3_PREFIX="hub/files/",
        ICI_S3_ADDRESSING_STYLE="path",
    )["OPTIONS"]

    assert options["endpoint_url"] == "http://127.0.0.1:9000"
    assert (options["region_name"], options["location"]) == ("eu-west-3", "hub/files/")
    assert (options["access_key"], options["secret_key"]) == ("key-id", "not-a-real-secret")
    assert options["addressing_style"] == "path"


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"ICI_INVOICE_FILE_STORAGE": "ftp"}, "ICI_INVOICE_FILE_STORAGE must be local or s3"),
        (
            {
                "ICI_INVOICE_FILE_STORAGE": "s3",
                "ICI_S3_BUCKET": "b1",
                "ICI_S3_ADDRESSING_STYLE": "x",
            },
            "ICI_S3_ADDRESSING_STYLE must be",
        ),
    ],
)
def test_a_wrong_invoice_file_storage_setting_is_refused(monkeypatch, variables, message):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=message):
        _invoice_file_storage(monkeypatch, **variables)
