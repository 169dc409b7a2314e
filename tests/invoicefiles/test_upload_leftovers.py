"""A stored upload always has its row: names cleaned the same on both paths, the
file removed on any failure, and what a crash leaves behind swept after an hour."""

import io
import logging
import os
import time
import uuid

import pytest
from django.db import DataError

from invoicefiles.models import InvoiceFile
from invoicefiles.services import uploads
from invoicefiles.services.retention import invoice_files_orphans_remove
from invoicefiles.services.storage import files_dir
from invoicefiles.services.uploads import clean_file_name, invoice_file_receive
from invoicefiles.tasks import sweep_task
from tests.support.invoicefiles import imt_file, imt_row

URL = "/api/v1/billers/1367/invoice-files"


def stored_files() -> list[str]:
    root = files_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def rows_paths() -> list[str]:
    return sorted(InvoiceFile.objects.values_list("path", flat=True))


def test_a_nul_in_the_name_of_a_raw_upload_is_cleaned_and_answered_202(api, imt_biller):
    response = api.post(
        f"{URL}?name=a%00b", data=imt_file(imt_row("INV001")), content_type="text/plain"
    )

    assert response.status_code == 202
    assert response.json()["name"] == "ab"
    assert InvoiceFile.objects.get().original_name == "ab"
    assert stored_files() == rows_paths()  # no file without its row


def test_both_paths_clean_a_name_the_same_way(api, imt_biller):
    raw = api.post(
        f"{URL}?name=dir%2Fin%01v%1b%7f.txt",
        data=imt_file(imt_row("INV001")),
        content_type="text/plain",
    )
    part = io.BytesIO(imt_file(imt_row("INV002")))
    part.name = "dir/in\x01v\x1b\x7f.txt"
    multipart = api.post(URL, data={"file": part}, format="multipart")

    assert (raw.status_code, multipart.status_code) == (202, 202)
    assert raw.json()["name"] == multipart.json()["name"] == "inv.txt"
    assert stored_files() == rows_paths()


@pytest.mark.parametrize(
    "name, cleaned",
    [
        ("a\x00b", "ab"),
        ("..\\..\\etc\\in\tvoices.txt", "invoices.txt"),
        ("  spaced.txt  ", "spaced.txt"),
        ("\x00\x01", ""),
        ("..", ""),
        ("line\u2028break.txt", "linebreak.txt"),
        ("x" * 300, "x" * 255),
    ],
)
def test_clean_file_name(name, cleaned):
    assert clean_file_name(name) == cleaned


def test_a_name_empty_once_cleaned_is_as_no_name(api, imt_biller):
    response = api.post(
        f"{URL}?name=%00%0d%0a", data=imt_file(imt_row("INV001")), content_type="text/plain"
    )

    assert response.status_code == 202
    assert response.json()["name"] == ""


def test_a_multipart_part_whose_name_is_nothing_once_cleaned_is_no_file(api, imt_biller):
    part = io.BytesIO(imt_file(imt_row("INV001")))
    part.name = "\x01\x02"
    response = api.post(URL, data={"file": part}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "file_missing"
    assert stored_files() == []


@pytest.mark.parametrize("failure", [DataError("refused"), RuntimeError("the broker fell over")])
def test_any_failure_while_registering_leaves_no_file(imt_biller, monkeypatch, failure):
    def fail(file_id):
        raise failure

    monkeypatch.setattr(uploads, "invoice_file_enqueue", fail)

    with pytest.raises(type(failure)):
        invoice_file_receive(biller=imt_biller, chunks=[imt_file(imt_row("INV001"))])

    assert not InvoiceFile.objects.exists()
    assert stored_files() == []


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_row_is_committed_keeps_the_rows_file(imt_biller, monkeypatch):
    def broker_bug(file_id):
        raise RuntimeError("after the commit")

    monkeypatch.setattr(uploads, "_enqueue", broker_bug)

    with pytest.raises(RuntimeError):
        invoice_file_receive(biller=imt_biller, chunks=[imt_file(imt_row("INV001"))])

    assert stored_files() == rows_paths() and len(rows_paths()) == 1


def test_the_same_file_sent_twice_at_once_keeps_one_file(imt_biller, monkeypatch):
    first = invoice_file_receive(biller=imt_biller, chunks=[imt_file(imt_row())], enqueue=False)
    # The second one finds no row (as if the first had not committed yet), then loses.
    monkeypatch.setattr(
        InvoiceFile.objects, "select_for_update", lambda: InvoiceFile.objects.none()
    )

    second = invoice_file_receive(biller=imt_biller, chunks=[imt_file(imt_row())], enqueue=False)

    assert second.duplicate and second.invoice_file.pk == first.invoice_file.pk
    assert stored_files() == rows_paths() == [first.invoice_file.path]


def _orphan(name: str, *, hours: float) -> str:
    path = files_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    when = time.time() - hours * 3600
    os.utime(path, (when, when))
    return name


def test_the_sweep_removes_old_files_without_a_row_and_counts_them(upload, caplog):
    kept = upload(imt_file(imt_row("INV001")))
    for name in (kept.path, kept.bif_path):  # old, but its row refers to it
        when = time.time() - 48 * 3600
        os.utime(files_dir() / name, (when, when))
    orphans = [
        _orphan(f"1367/{uuid.uuid4()}.txt", hours=2),
        _orphan(f"1367/{uuid.uuid4()}.bif", hours=2),
        _orphan("2249/upload-abc123_x.part", hours=2),  # an upload cut off
    ]
    young = [
        _orphan(f"1367/{uuid.uuid4()}.txt", hours=0.5),  # its row may not be committed yet
        _orphan("1367/upload-zzz.part", hours=0.1),  # an upload being received
    ]
    foreign = [
        _orphan("1367/notes.txt", hours=100),  # not a name the hub gives
        _orphan(f"other/{uuid.uuid4()}.txt", hours=100),  # not a biller's folder
        _orphan(f"{uuid.uuid4()}.txt", hours=100),
    ]

    with caplog.at_level(logging.INFO, logger="invoicefiles"):
        counts = sweep_task()

    assert counts == {"enqueued": 0, "pruned": 0, "orphans": 3}
    assert "orphans 3" in caplog.text
    assert stored_files() == sorted([kept.path, kept.bif_path, *young, *foreign])
    assert not any((files_dir() / name).exists() for name in orphans)


def test_the_orphan_sweep_stops_at_its_limit_and_minds_a_missing_dir(imt_biller, settings):
    assert invoice_files_orphans_remove() == 0  # nothing stored yet, no folder at all
    for _ in range(3):
        _orphan(f"1367/{uuid.uuid4()}.txt", hours=2)

    assert invoice_files_orphans_remove(limit=2) == 2
    assert invoice_files_orphans_remove(limit=2) == 1
    assert stored_files() == []
