"""Invoice files in the portal: the list, a file's row errors, its BIF."""

import datetime
import hashlib
import html
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from invoicefiles.models import InvoiceFile, InvoiceFileError, InvoiceFileStatus
from invoicefiles.services.storage import files_dir
from tests.billers.factories import PortalUserFactory

BIF = b"FH|2249|20261120\nIH|LIC-1|50.00\n"


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"


def stored_file(biller, *, bif: bytes | None = BIF, **fields) -> InvoiceFile:
    """An invoice file as processing leaves it, its BIF on disk."""
    file_id = uuid.uuid4()
    values = {
        "original_name": "invoices-1120.txt", "size": 2048, "status": InvoiceFileStatus.DONE,
        "rows": 12, "accepted": 10, "rejected": 2, "invoice_count": 10,
        "total_amount": Decimal("1234.50"),
    }  # fmt: skip
    values.update(fields)
    if bif is not None:
        path = files_dir() / "bif" / f"{file_id}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bif)
        values["bif_path"] = f"bif/{file_id}.txt"
    return InvoiceFile.objects.create(
        id=file_id, biller=biller, sha256=hashlib.sha256(file_id.bytes).hexdigest(),
        path=f"uploads/{file_id}", **values,
    )  # fmt: skip


def _url(name, invoice_file, **query):
    url = reverse(
        f"portal:{name}", kwargs={"bid": invoice_file.biller.bid, "file_id": invoice_file.pk}
    )
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _errors(invoice_file, n, *, first_line=2):
    InvoiceFileError.objects.bulk_create(
        InvoiceFileError(
            invoice_file=invoice_file,
            line=first_line + i,
            field="due_date",
            message=f"'2026-13-{i:02d}' is not a date.",
        )  # fmt: skip
        for i in range(n)
    )


def test_the_list_shows_each_file_with_its_counts_newest_first(portal, biller):
    older = stored_file(biller, original_name="october.txt")
    InvoiceFile.objects.filter(pk=older.pk).update(
        created_at=datetime.datetime(2026, 10, 31, 23, 0, tzinfo=datetime.UTC)
    )
    newer = stored_file(biller, original_name="november.txt", rows=3, accepted=3, rejected=0)
    failed = stored_file(
        biller, original_name="broken.txt", status=InvoiceFileStatus.FAILED, bif=None,
        rows=0, accepted=0, rejected=0, invoice_count=0, total_amount=None,
    )  # fmt: skip

    page = portal.get(reverse("portal:files", kwargs={"bid": biller.bid})).content.decode()

    assert page.index("november.txt") < page.index("october.txt")
    assert "2026-10-31 23:00 UTC" in page
    assert "$1234.50" in page
    assert "Failed" in page and "Done" in page
    assert _url("file_bif", newer) in page and _url("file_bif", older) in page
    assert _url("file_bif", failed) not in page
    assert _url("file", failed) in page


def test_another_billers_files_are_not_listed_and_not_found(portal, biller, other_biller):
    theirs = stored_file(other_biller, original_name="theirs.txt")

    page = portal.get(reverse("portal:files", kwargs={"bid": biller.bid})).content.decode()
    assert "theirs.txt" not in page
    assert "No invoice file yet." in page
    ours_url = reverse("portal:file", kwargs={"bid": biller.bid, "file_id": theirs.pk})
    bif_url = reverse("portal:file_bif", kwargs={"bid": biller.bid, "file_id": theirs.pk})
    for url in (ours_url, bif_url, _url("file", theirs), _url("file_bif", theirs),
                reverse("portal:files", kwargs={"bid": other_biller.bid})):  # fmt: skip
        assert portal.get(url).status_code == 404, url


def test_a_files_page_shows_its_row_errors_by_line(portal, biller):
    invoice_file = stored_file(biller, error_message="")
    InvoiceFileError.objects.create(
        invoice_file=invoice_file, line=7, field="amount_due", message="'abc' is not an amount."
    )
    InvoiceFileError.objects.create(
        invoice_file=invoice_file, line=3, field="invoice_number", message="Missing."
    )

    page = html.unescape(portal.get(_url("file", invoice_file)).content.decode())

    assert "2 row errors, by line." in page
    assert page.index("invoice_number") < page.index("amount_due")
    assert "'abc' is not an amount." in page
    assert "Download the BIF" in page


def test_many_row_errors_are_paged_and_say_how_many_there_are(portal, biller):
    invoice_file = stored_file(biller, rows=1001, rejected=450)
    _errors(invoice_file, 450)

    first = portal.get(_url("file", invoice_file)).content.decode()
    last = portal.get(_url("file", invoice_file, page=3)).content.decode()

    assert "Row errors 1 to 200 of 450, by line." in first
    assert first.count("is not a date.") == 200
    assert "Next 200" in first and "Previous 200" not in first
    assert "Row errors 401 to 450 of 450, by line." in last
    assert last.count("is not a date.") == 50
    assert "Next 200" not in last and "Previous 200" in last


@pytest.mark.parametrize("page", ["abc", "0", "-1", "9"])
def test_a_bad_page_of_errors_is_a_400_that_says_why(portal, biller, page):
    invoice_file = stored_file(biller)
    _errors(invoice_file, 5)

    response = portal.get(_url("file", invoice_file, page=page))

    assert response.status_code == 400
    body = response.content.decode()
    assert "page" in body.lower() and 'class="card error"' in body


def test_a_bad_page_of_files_is_a_400(portal, biller):
    url = reverse("portal:files", kwargs={"bid": biller.bid})
    assert portal.get(url + "?page=x").status_code == 400
    assert portal.get(url + "?page=2").status_code == 400


def test_a_refused_file_says_why(portal, biller):
    invoice_file = stored_file(
        biller, status=InvoiceFileStatus.FAILED, bif=None, error_code="missing_column",
        error_message="The file has no column 'due_date'.",
    )  # fmt: skip

    page = html.unescape(portal.get(_url("file", invoice_file)).content.decode())

    assert "The file was refused: The file has no column 'due_date'." in page
    assert "Download the BIF" not in page
    assert portal.get(_url("file_bif", invoice_file)).status_code == 404


def test_the_bif_is_downloaded_as_a_file(portal, biller):
    invoice_file = stored_file(biller)

    response = portal.get(_url("file_bif", invoice_file))

    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == BIF
    assert response["Content-Disposition"] == (
        f'attachment; filename="BIF-{biller.bid}-{invoice_file.pk}.txt"'
    )
    assert response["Cache-Control"] == "no-store"


def test_a_bif_gone_from_disk_is_not_found_not_an_error(portal, biller):
    invoice_file = stored_file(biller)
    (files_dir() / invoice_file.bif_path).unlink()

    assert portal.get(_url("file_bif", invoice_file)).status_code == 404
    page = portal.get(_url("file", invoice_file)).content.decode()
    assert "Download the BIF" not in page


def test_a_file_sent_through_the_api_shows_as_the_api_reports_it(
    client, presets, django_capture_on_commit_callbacks
):
    from invoicefiles.services.uploads import invoice_file_receive
    from tests.support.invoicefiles import imt_file, imt_row

    imt = presets["imt"]
    client.force_login(PortalUserFactory(billers=[imt]))
    content = imt_file(imt_row("INV001"), imt_row("INV002", due="not-a-date"))
    with django_capture_on_commit_callbacks(execute=True):
        received = invoice_file_receive(biller=imt, chunks=[content], original_name="imt.txt")
    invoice_file = InvoiceFile.objects.get(pk=received.invoice_file.pk)
    assert invoice_file.status == InvoiceFileStatus.DONE

    listing = client.get(reverse("portal:files", kwargs={"bid": imt.bid})).content.decode()
    page = client.get(_url("file", invoice_file)).content.decode()
    bif = client.get(_url("file_bif", invoice_file))

    assert "imt.txt" in listing
    assert "1 row error, by line." in page and "due_date" in page
    assert bif.status_code == 200
    assert b"".join(bif.streaming_content) == (files_dir() / invoice_file.bif_path).read_bytes()
