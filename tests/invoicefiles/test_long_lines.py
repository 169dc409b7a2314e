"""A line longer than ICI_INVOICE_FILE_MAX_LINE_BYTES refuses its row (the header's:
the file), and is never held in memory: the reader keeps at most the limit of it."""

import io
import tracemalloc

import pytest

from billers.models import Invoice
from invoicefiles.services import reading
from invoicefiles.services.reading import Encoding, Lines, LineTooLong, read_rows
from tests.support.invoicefiles import HEADER, imt_file, imt_row

UTF8 = Encoding("utf-8", "utf-8", False)
LIMIT = 400  # bytes: the header (about 150) and a row (about 110) fit


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.ICI_INVOICE_FILE_MAX_LINE_BYTES = LIMIT


def read_lines(content: bytes, *, max_bytes=10, encoding=UTF8) -> list:
    lines, out = Lines(io.BytesIO(content), encoding, max_bytes), []
    while True:
        lines.record_chars = 0  # each line a row of its own
        try:
            out.append(next(lines))
        except LineTooLong:
            out.append(None)
        except StopIteration:
            return out


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64 * 1024])
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_long_line_is_skipped_to_its_end_whatever_the_chunks(monkeypatch, chunk, end):
    monkeypatch.setattr(reading, "LINE_CHUNK", chunk)
    text = end.join(["a|b", "x" * 11, "é|", "", "y" * 10, "z" * 30]) + end
    expected = [f"a|b{end}", None, f"é|{end}", end, "y" * 10 + end, None]

    assert read_lines(text.encode()) == expected


def test_a_line_end_is_not_counted_and_a_last_line_may_lack_one():
    assert read_lines(b"0123456789\r\n0123456789") == ["0123456789\r\n", "0123456789"]
    assert read_lines(b"ok\n0123456789a") == ["ok\n", None]


def test_the_byte_order_mark_is_not_text_and_windows_1252_is_read(monkeypatch):
    monkeypatch.setattr(reading, "LINE_CHUNK", 2)
    bom = Encoding("utf-8-sig", "utf-8 (BOM)", False)
    cp1252 = Encoding("cp1252", "windows-1252", True)

    assert read_lines(b"\xef\xbb\xbfa|b\n", encoding=bom) == ["a|b\n"]
    assert read_lines("Núñez\n".encode("cp1252"), encoding=cp1252) == ["Núñez\n"]


def test_rows_keep_their_line_numbers_around_a_long_line(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b'h1|h2\n"a\nb"|c\n' + b"x" * 50 + b"\n\nd|e\n")

    rows = list(read_rows(path, UTF8, max_line_bytes=20))

    assert [(r.line, r.fields, r.too_long) for r in rows] == [
        (1, ["h1", "h2"], False),
        (2, ["a\nb", "c"], False),  # a quoted line break, as before
        (4, None, True),
        (6, ["d", "e"], False),
    ]
    assert rows[2].problem == "the line is longer than 20 bytes"


def test_a_row_of_quoted_lines_longer_than_the_limit_is_refused(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b'h1|h2\nx|"' + b"aaaa\n" * 6 + b'aaaa"\nd|e\n')

    rows = list(read_rows(path, UTF8, max_line_bytes=20))

    assert (rows[1].line, rows[1].too_long) == (2, True)
    assert rows[1].problem == "the row is longer than 20 characters"
    # As after any row that cannot be read, reading goes on at the next line.
    assert rows[-1].fields == ["d", "e"]


def test_a_long_field_refuses_its_row_and_the_file_goes_on(upload):
    long_row = imt_row("INV002", name="N" * LIMIT)
    f = upload(imt_file(imt_row("INV001"), long_row, imt_row("INV003")))

    assert (f.status, f.rows, f.accepted, f.rejected) == ("done", 3, 2, 1)
    error = f.errors.get()
    assert (error.line, error.message) == (3, f"the line is longer than {LIMIT} bytes")
    assert set(Invoice.objects.values_list("invoice_number", flat=True)) == {"INV001", "INV003"}


def test_a_long_line_is_never_copied_by_the_fast_path(upload, settings):
    # Plain (no quote), and shorter than the csv module's field limit: only the
    # line limit keeps PostgreSQL's COPY from taking it.
    settings.ICI_INVOICE_FILE_MAX_LINE_BYTES = 200
    f = upload(imt_file(imt_row("INV001"), imt_row("INV002", address="A" * 150)))

    assert (f.status, f.accepted, f.rejected) == ("done", 1, 1)
    assert f.errors.get().line == 3


def test_a_long_header_refuses_the_file(upload):
    f = upload(imt_file(imt_row("INV001"), header=HEADER + "|" + "h" * LIMIT))

    assert (f.status, f.error_code) == ("failed", "line_too_long")
    assert str(LIMIT) in f.error_message
    assert not Invoice.objects.exists()


def test_a_file_of_one_line_without_an_end_refuses_the_file(upload):
    f = upload(b"x" * (LIMIT * 100))

    assert (f.status, f.error_code) == ("failed", "line_too_long")


def test_a_long_line_is_never_held_in_memory(tmp_path, settings):
    settings.ICI_INVOICE_FILE_MAX_LINE_BYTES = 64 * 1024
    path = tmp_path / "f.txt"
    with open(path, "wb") as f:
        f.write(HEADER.encode() + b"\n")
        for _ in range(64):  # one 16 MiB line
            f.write(b"x" * (256 * 1024))
        f.write(b"\n" + imt_row().encode() + b"\n")

    tracemalloc.start()
    try:
        rows = list(read_rows(path, UTF8))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [r.too_long for r in rows] == [False, True, False]
    assert peak < 1024 * 1024  # the limit and a chunk or two, not 16 MiB
