"""Reading a partner's invoice file: its encoding, then its rows, streamed.

The file is never held in memory: the encoding is found in one pass over the
bytes (1 MiB at a time), then the rows are read with the csv module over a text
wrapper. Rules (README, "Invoice files"):

- UTF-8, with or without a byte-order mark; a file that is not UTF-8 is read as
  Windows-1252 and the answer says so; bytes neither can read: `unreadable_file`.
- A NUL byte anywhere, or mostly control characters at the start: `binary_file`.
- Nothing but blank lines (or nothing at all): `empty_file`.
- `|` between fields; CRLF or LF line ends; blank lines (a trailing one too) are
  skipped. A field that starts with `"` is a quoted field: it ends at the next
  lone `"`, may hold `|` and line breaks, and `""` in it is one `"`. A `"`
  inside an unquoted field is an ordinary character. Bad quoting is an error of
  that row only.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from icintegrations.errors import ApplicationError

CHUNK = 1 << 20
_CONTROL = set(range(0, 32)) - {9, 10, 13}


class InvoiceFileRejected(ApplicationError):
    """The whole file is refused; nothing of it is applied."""

    status_code = 422


@dataclass(frozen=True)
class Encoding:
    codec: str  # for the text wrapper
    label: str  # for people: utf-8, utf-8 (BOM), windows-1252
    fallback: bool


def _decodes(path, codec: str) -> bool:
    decoder = codecs.getincrementaldecoder(codec)()
    with open(path, "rb") as f:
        try:
            while chunk := f.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path) -> Encoding:
    with open(path, "rb") as f:
        head = f.read(CHUNK)
        empty = not head.lstrip(codecs.BOM_UTF8).strip()
        binary = b"\x00" in head
        while not binary and (chunk := f.read(CHUNK)):
            binary = b"\x00" in chunk
            empty = empty and not chunk.strip()
    if binary or (head and sum(b in _CONTROL for b in head[:8192]) > len(head[:8192]) // 10):
        raise InvoiceFileRejected(
            "This is a binary file, not a pipe-delimited text file.", code="binary_file"
        )
    if empty:
        raise InvoiceFileRejected("The file is empty: no header, no rows.", code="empty_file")
    if _decodes(path, "utf-8"):
        if head.startswith(codecs.BOM_UTF8):
            return Encoding("utf-8-sig", "utf-8 (BOM)", False)
        return Encoding("utf-8", "utf-8", False)
    if _decodes(path, "cp1252"):
        return Encoding("cp1252", "windows-1252", True)
    raise InvoiceFileRejected(
        "The file is neither UTF-8 nor Windows-1252 text.", code="unreadable_file"
    )


def plain_offset(path, encoding: Encoding) -> int | None:
    """Where the rows after the header start, in bytes, when the file is plain.

    Plain: UTF-8, its header on the first line, no `"` anywhere (no quoted field),
    no `\\.` (PostgreSQL's end of data) and no line longer than the csv module's
    field limit. The rows of a plain file are its lines split at `|`, so another
    reader (PostgreSQL's COPY in CSV format) reads them exactly as `read_rows`
    does, or refuses them. None for any other file."""
    if encoding.codec not in ("utf-8", "utf-8-sig"):
        return None
    limit = csv.field_size_limit()
    with open(path, "rb") as f:
        head = f.read(CHUNK)
        end = head.find(b"\n")
        if end < 1 or b"\r" in head[: end - 1] or not head[:end].strip():
            return None
        tail, run, chunk = b"", 0, head  # run: the length of the line going on
        while chunk:
            if b'"' in chunk or b"\\." in tail + chunk:
                return None
            lines = chunk.split(b"\n")
            lengths = [run + len(lines[0]), *map(len, lines[1:])]
            if max(lengths) > limit:
                return None
            run = lengths[-1]
            tail, chunk = chunk[-1:], f.read(CHUNK)
    return end + 1


class PipeDialect(csv.Dialect):
    delimiter = "|"
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True


@dataclass(frozen=True)
class Row:
    line: int  # the file's line where the row starts (the header is line 1)
    fields: list[str] | None
    problem: str = ""  # a row the csv reader could not read


def read_rows(path, encoding: Encoding) -> Iterator[Row]:
    """The file's rows, header first, blank lines skipped."""
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding.codec, newline="")
        reader = csv.reader(text, PipeDialect)
        consumed = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                line, consumed = consumed + 1, reader.line_num
                yield Row(line, None, f"the row cannot be read ({e})")
                continue
            line, consumed = consumed + 1, reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            yield Row(line, fields)
