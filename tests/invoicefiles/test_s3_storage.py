"""Invoice files in an S3 bucket (ICI_INVOICE_FILE_STORAGE=s3), against a real S3
API on 127.0.0.1 (moto's server mode): nothing of a file is kept on the disk of
the process that received it, so a worker on another machine processes it."""

import datetime
import uuid

import pytest
from django.utils import timezone

from billers.models import Invoice
from invoicefiles.models import InvoiceFile, InvoiceFileStatus
from invoicefiles.services import uploads
from invoicefiles.services.processing import invoice_file_process
from invoicefiles.services.retention import invoice_files_orphans_remove, invoice_files_prune
from invoicefiles.services.uploads import FileTooLargeError, invoice_file_receive
from tests.support.invoicefiles import imt_file, imt_row

URL = "/api/v1/billers/1367/invoice-files"


def local_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def nothing_local(settings, tmp_path):
    """After the test: nothing in the local files dir, no temporary file left."""
    yield
    root = tmp_path / "invoice-files"
    assert not root.exists() or local_files(root) == []
    assert local_files(tmp_path / "tmp") == []


def test_an_upload_is_stored_processed_and_its_bif_downloaded_from_the_bucket(
    s3, nothing_local, api, django_capture_on_commit_callbacks
):
    content = imt_file(imt_row("INV001", amount="9.99"), imt_row("INV002"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}?name=imt.txt", data=content, content_type="text/plain")

    assert response.status_code == 202
    file_id = response.json()["id"]
    assert api.get(f"{URL}/{file_id}").json()["status"] == "done"
    assert s3.keys() == [f"1367/{file_id}.bif", f"1367/{file_id}.txt"]
    assert s3.read(f"1367/{file_id}.txt") == content
    bif = api.get(f"{URL}/{file_id}/bif")
    assert bif.status_code == 200 and bif["Cache-Control"] == "no-store"
    downloaded = b"".join(bif.streaming_content)
    assert downloaded == s3.read(f"1367/{file_id}.bif")
    assert downloaded.startswith(b"FH|") and b"\r\nIH|N||INV001|" in downloaded
    assert Invoice.objects.filter(invoice_number__in=["INV001", "INV002"]).count() == 2


def test_a_worker_with_an_empty_disk_processes_a_file_another_machine_received(
    s3, nothing_local, imt_biller, settings, tmp_path
):
    received = invoice_file_receive(
        biller=imt_biller, chunks=[imt_file(imt_row("INV001"))], enqueue=False
    )
    # The worker's machine: its own, empty files dir.
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "worker" / "invoice-files"

    result = invoice_file_process(file_id=received.invoice_file.pk)

    assert result is not None and result.status == InvoiceFileStatus.DONE
    assert result.bif_path in s3.keys()
    assert not (tmp_path / "worker").exists()
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"


def test_a_file_that_fails_leaves_no_bif_and_no_temporary_copy(s3, nothing_local, upload):
    failed = upload(b"\x00\x01binary\x00")

    assert failed.status == InvoiceFileStatus.FAILED and not failed.bif_path
    assert s3.keys() == [failed.path]  # the upload is kept, to be sent again


def test_retention_deletes_the_upload_and_its_bif_from_the_bucket(s3, upload, api, settings):
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    old = upload(imt_file(imt_row("INV001")), name="old.txt")
    recent = upload(imt_file(imt_row("INV002")), name="recent.txt")
    InvoiceFile.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=31)
    )

    assert invoice_files_prune() == 1

    assert s3.keys() == sorted([recent.path, recent.bif_path])
    bif = api.get(f"{URL}/{old.pk}/bif")
    assert bif.status_code == 404 and "no longer kept" in bif.json()["message"]


def test_a_failed_file_sent_again_after_its_bytes_went_is_stored_again(s3, upload, settings):
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    content = imt_file(imt_row("INV001", amount="x"))
    failed = upload(content)
    InvoiceFile.objects.filter(pk=failed.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=31)
    )
    invoice_files_prune()
    assert s3.keys() == []

    again = upload(content)

    assert again.pk == failed.pk and again.status == InvoiceFileStatus.FAILED
    assert s3.keys() == [failed.path] and s3.read(failed.path) == content


def test_the_orphan_sweep_lists_and_deletes_through_the_bucket(s3, upload):
    kept = upload(imt_file(imt_row("INV001")))
    orphans = [s3.put(f"1367/{uuid.uuid4()}.txt"), s3.put(f"2249/{uuid.uuid4()}.bif")]
    foreign = [
        s3.put("1367/notes.txt"),  # not a name the hub gives
        s3.put(f"other/{uuid.uuid4()}.txt"),  # not a biller's folder
        s3.put(f"{uuid.uuid4()}.txt"),
    ]

    assert invoice_files_orphans_remove() == 0  # all written just now
    in_two_hours = timezone.now() + datetime.timedelta(hours=2)
    assert invoice_files_orphans_remove(now=in_two_hours) == 2

    assert s3.keys() == sorted([kept.path, kept.bif_path, *foreign])
    assert not set(orphans) & set(s3.keys())


def _cut_off(content: bytes):
    yield content[:10]
    raise OSError("the client went away")


@pytest.mark.parametrize("failure", ["cut off", "too large", "empty", "broker"])
def test_an_upload_that_fails_leaves_no_object(
    s3, nothing_local, imt_biller, settings, monkeypatch, failure
):
    content = imt_file(imt_row("INV001"))
    chunks: object = [content]
    expected: type[BaseException] = RuntimeError
    if failure == "cut off":
        chunks, expected = _cut_off(content), OSError
    elif failure == "too large":
        settings.ICI_INVOICE_FILE_MAX_BYTES = 20
        chunks, expected = [content[:15], content[15:]], FileTooLargeError
    elif failure == "empty":
        chunks, expected = [b""], uploads.ApplicationError
    else:

        def fail(file_id):
            raise RuntimeError("the broker fell over")

        monkeypatch.setattr(uploads, "invoice_file_enqueue", fail)

    with pytest.raises(expected):
        invoice_file_receive(biller=imt_biller, chunks=chunks)

    assert not InvoiceFile.objects.exists()
    assert s3.keys() == []


def test_the_same_file_sent_twice_at_once_keeps_one_object(s3, imt_biller, monkeypatch):
    first = invoice_file_receive(biller=imt_biller, chunks=[imt_file(imt_row())], enqueue=False)
    monkeypatch.setattr(
        InvoiceFile.objects, "select_for_update", lambda: InvoiceFile.objects.none()
    )

    second = invoice_file_receive(biller=imt_biller, chunks=[imt_file(imt_row())], enqueue=False)

    assert second.duplicate and second.invoice_file.pk == first.invoice_file.pk
    assert s3.keys() == [first.invoice_file.path]
