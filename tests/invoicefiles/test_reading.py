"""Encodings and bad files: each a clear answer, nothing partial."""

import codecs

from billers.models import Invoice
from tests.support.invoicefiles import HEADER, imt_file, imt_row


def test_utf8_with_a_bom_and_crlf_line_ends(upload):
    content = codecs.BOM_UTF8 + imt_file(imt_row("INV001", name="José Núñez"), newline="\r\n")
    f = upload(content)

    assert (f.status, f.accepted, f.encoding) == ("done", 1, "utf-8 (BOM)")
    assert Invoice.objects.get(invoice_number="INV001").customer.name == "José Núñez"


def test_windows_1252_is_read_and_the_fallback_reported(upload):
    content = "\n".join([HEADER, imt_row("INV001", name="José Núñez")]).encode("cp1252")
    f = upload(content)

    assert (f.status, f.encoding) == ("done", "windows-1252")
    assert any("Windows-1252" in w for w in f.warnings)
    assert Invoice.objects.get(invoice_number="INV001").customer.name == "José Núñez"


def test_blank_lines_and_a_trailing_empty_line_are_skipped(upload):
    content = imt_file(imt_row("INV001"), "", imt_row("INV002")) + b"\n\n"
    f = upload(content)

    assert (f.status, f.rows, f.accepted, f.rejected) == ("done", 2, 2, 0)


def test_quoted_fields_may_hold_pipes_and_quotes(upload):
    row = imt_row("INV001", name='"Smith | Sons ""Ltd"""', address='1 "Main" St')
    f = upload(imt_file(row))

    assert (f.status, f.accepted) == ("done", 1)
    customer = Invoice.objects.get(invoice_number="INV001").customer
    assert customer.name == 'Smith | Sons "Ltd"'
    assert customer.address1 == '1 "Main" St'  # a quote inside a field is a character


def test_bad_quoting_rejects_that_row_only(upload):
    f = upload(imt_file(imt_row("INV001", name='"Bud" Smith'), imt_row("INV002")))

    assert (f.status, f.accepted, f.rejected) == ("done", 1, 1)
    error = f.errors.get()
    assert error.line == 2 and "cannot be read" in error.message


def test_an_empty_file_is_refused_at_once(imt_biller, api):
    response = api.post("/api/v1/billers/1367/invoice-files", data=b"", content_type="text/plain")

    assert response.status_code == 400
    assert response.json()["code"] == "empty_file"


def test_a_file_of_blank_lines_is_empty(upload):
    f = upload(b"\r\n\r\n  \n")

    assert (f.status, f.error_code) == ("failed", "empty_file")


def test_a_header_without_rows(upload):
    f = upload((HEADER + "\n").encode())

    assert (f.status, f.error_code) == ("failed", "no_rows")


def test_a_binary_file_is_refused_and_changes_nothing(upload):
    f = upload(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 10)

    assert (f.status, f.error_code) == ("failed", "binary_file")
    assert "binary" in f.error_message
    assert not Invoice.objects.exists()


def test_a_file_neither_utf8_nor_windows_1252(upload):
    content = imt_file(imt_row("INV001")) + b"\x81\x8d\x8f\x90\x9d\n"
    f = upload(content)

    assert (f.status, f.error_code) == ("failed", "unreadable_file")
    assert not Invoice.objects.exists()


def test_a_duplicate_column_is_refused(upload):
    f = upload(imt_file(imt_row() + "|x", header=HEADER + "|City"))

    assert (f.status, f.error_code) == ("failed", "duplicate_column")
