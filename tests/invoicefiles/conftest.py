import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from invoicefiles.services.storage import files_dir
from invoicefiles.services.uploads import invoice_file_receive


@pytest.fixture(autouse=True)
def _fresh_throttles(fresh_throttles):
    """Every test here starts and ends with an empty cache (the API's throttles)."""


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"
    yield
    assert files_dir() == tmp_path / "invoice-files"


@pytest.fixture
def imt_biller(presets):
    return presets["imt"]


@pytest.fixture
def upload(imt_biller, django_capture_on_commit_callbacks):
    """Receive bytes as the API would, and run the task (django-q2 sync) on commit."""

    def send(content: bytes, biller=None, name="invoices.txt"):
        with django_capture_on_commit_callbacks(execute=True):
            received = invoice_file_receive(
                biller=biller or imt_biller, chunks=[content], original_name=name
            )
        received.invoice_file.refresh_from_db()
        return received.invoice_file

    return send


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real S3 API on 127.0.0.1 (moto's server mode), one for the session."""
    from icintegrations.testing.s3 import moto_server

    with moto_server() as url:
        yield url


@dataclass
class Bucket:
    """The bucket behind the `invoicefiles` storage, seen from outside the hub."""

    client: Any
    name: str
    prefix: str

    def keys(self) -> list[str]:
        """Every object's name under the storage's prefix (as the hub names it)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        keys = [item["Key"] for page in pages for item in page.get("Contents", ())]
        return sorted(key.removeprefix(self.prefix) for key in keys)

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=self.prefix + name)["Body"].read()

    def put(self, name: str, content: bytes = b"left behind") -> str:
        self.client.put_object(Bucket=self.name, Key=self.prefix + name, Body=content)
        return name


def _reset_storages():
    from django.core.files.storage import storages

    storages.__dict__.pop("backends", None)  # a cached_property
    storages._backends = None
    storages._storages = {}


@pytest.fixture
def s3(moto_endpoint, settings, monkeypatch, tmp_path):
    """The `invoicefiles` storage is S3: a fresh bucket on moto, configured by the
    same ICI_S3_* variables as production. Local scratch and temporary copies go to
    tmp_path/"tmp" (FILE_UPLOAD_TEMP_DIR), which the tests find empty after."""
    import boto3
    import environ

    from icintegrations.settings import invoice_file_storage
    from icintegrations.testing.s3 import DUMMY_AWS_ENV

    for name, value in {**DUMMY_AWS_ENV, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    bucket = f"ici-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    for name, value in {
        "ICI_INVOICE_FILE_STORAGE": "s3",
        "ICI_S3_BUCKET": bucket,
        "ICI_S3_ENDPOINT_URL": moto_endpoint,
        "ICI_S3_ADDRESSING_STYLE": "path",
        "ICI_S3_ACCESS_KEY_ID": "testing",
        "ICI_S3_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    config = invoice_file_storage(environ.Env())
    settings.STORAGES = {**settings.STORAGES, "invoicefiles": config}
    (tmp_path / "tmp").mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    _reset_storages()  # storages caches its backends
    yield Bucket(client=client, name=bucket, prefix=config["OPTIONS"]["location"])
    _reset_storages()
