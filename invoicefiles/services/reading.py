"""Reading a partner's invoice file: its encoding, then its rows, streamed.

The file is never held in memory, nor is one of its lines: the encoding is
found in one pass over the bytes (1 MiB at a time), then the rows are read with
the csv module over `Lines`, which reads the bytes 64 KiB at a time and never
holds more than ICI_INVOICE_FILE_MAX_LINE_BYTES of one line. Rules (README,
"Invoice files"):

- UTF-8, with or without a byte-order mark; a file that is not UTF-8 is read as
  Windows-1252 and the answer says so; bytes neither can read: `unreadable_file`.
- A NUL byte anywhere, or mostly control characters at the start: `binary_file`.
- Nothing but blank lines (or nothing at all): `empty_file`.
- `|` between fields; CRLF or LF line ends; blank lines (a trailing one too) are
  skipped. A field that starts with `"` is a quoted field: it ends at the next
  lone `"`, may hold `|` and line breaks, and `""` in it is one `"`. A `"`
  inside an unquoted field is an ordinary character. Bad quoting is an error of
  that row only.
- A line longer than ICI_INVOICE_FILE_MAX_LINE_BYTES (its line end aside), or a
  row (quoted line breaks included) longer than that many characters, is an
  error of that row; the header's: `line_too_long`, the file is refused.
"""

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat

from django.conf import settings

from icintegrations.errors import ApplicationError

CHUNK = 1 << 20
LINE_CHUNK = 64 * 1024  # the bytes of a file read at a time for its rows
_BREAK = re.compile(rb"[\r\n]")
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
    field limit or ICI_INVOICE_FILE_MAX_LINE_BYTES (the reader refuses those).
    The rows of a plain file are its lines split at `|`, so another reader
    (PostgreSQL's COPY in CSV format) reads them exactly as `read_rows` does, or
    refuses them. None for any other file."""
    if encoding.codec not in ("utf-8", "utf-8-sig"):
        return None
    limit = min(csv.field_size_limit(), settings.ICI_INVOICE_FILE_MAX_LINE_BYTES)
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


class LineTooLong(Exception):
    """The line (or the row) being read is longer than the limit; it was skipped."""


_TOO_LONG = object()  # in a batch of lines: one that was too long, skipped


class Lines:
    """A binary file's lines as text, each with its line end (CRLF, LF or CR, as
    `open(newline="")` gives them), for the csv module.

    The bytes are read LINE_CHUNK at a time; at most `max_bytes` of an unfinished
    line are kept. A longer line is skipped to its end without being held, and
    reading it raises LineTooLong (the next read gives the next line), as does a
    line that would take the row being read over `max_bytes` characters (the
    reader sets `record_chars` to 0 before each row); the csv reader then starts
    again at the next line, as after any error. `line_num`: the lines read so
    far, the skipped ones included."""

    def __init__(self, raw, encoding: Encoding, max_bytes: int):
        self._raw = raw
        self._codec = encoding.codec
        if self._codec == "utf-8-sig":  # the byte-order mark is not text
            self._codec = "utf-8"
            if raw.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
                raw.seek(0)
        self._max = max_bytes
        self._batch: Iterator = iter(())
        self._carry = b""  # the start of the line going on
        self._skipping = False  # the line going on is too long: its bytes are dropped
        self._drop_lf = False  # a CR ended the last chunk: a LF next is its line end
        self._eof = False
        self.line_num = 0
        self.record_chars = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            line = next(self._batch)
        except StopIteration:
            self._batch = iter(self._read())
            line = next(self._batch)  # StopIteration at the end: the file's end
        self.line_num += 1
        if line is _TOO_LONG:
            raise LineTooLong(f"the line is longer than {self._max} bytes")
        if not self.record_chars:  # the row's first line: its bytes were counted
            self.record_chars = len(line)
        elif (chars := self.record_chars + len(line)) > self._max:
            raise LineTooLong(f"the row is longer than {self._max} characters")
        else:
            self.record_chars = chars
        return line

    def _read(self) -> list:
        """The next lines: [] only at the end of the file."""
        while not self._eof:
            chunk = self._raw.read(LINE_CHUNK)
            if not chunk:
                self._eof = True
                last, self._carry = self._carry, b""
                return self._decoded([last]) if last else []
            if self._drop_lf:
                chunk, self._drop_lf = chunk.removeprefix(b"\n"), False
            if self._skipping:
                found = _BREAK.search(chunk)
                if found is None:
                    continue
                end = found.end()
                if chunk[end - 1 : end + 1] == b"\r\n":
                    end += 1
                self._drop_lf = end == len(chunk) and chunk.endswith(b"\r")
                chunk, self._skipping = chunk[end:], False
            lines = self._split(self._carry + chunk)
            if lines:
                return lines
        return []

    def _split(self, data: bytes) -> list:
        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if cut == len(data) - 1 and data.endswith(b"\r"):  # a LF may follow in the next chunk
            cut = max(data.rfind(b"\n", 0, cut), data.rfind(b"\r", 0, cut))
        complete, self._carry = data[: cut + 1], data[cut + 1 :]
        # bytes.splitlines ends a line as open(newline="") does: CRLF, LF or CR
        lines = self._decoded(complete.splitlines(keepends=True)) if complete else []
        if len(self._carry) - self._carry.endswith(b"\r") > self._max:
            lines.append(_TOO_LONG)
            self._carry, self._skipping = b"", not self._carry.endswith(b"\r")
            self._drop_lf = not self._skipping
        return lines

    def _decoded(self, pieces: list[bytes]) -> list:
        codec = self._codec
        if max(map(len, pieces)) <= self._max:
            return list(map(bytes.decode, pieces, repeat(codec)))
        # one may be too long, its line end aside
        return [
            p.decode(codec) if len(p.rstrip(b"\r\n")) <= self._max else _TOO_LONG for p in pieces
        ]


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
    too_long: bool = False  # ... because a line of it is longer than the limit


def read_rows(path, encoding: Encoding, max_line_bytes: int | None = None) -> Iterator[Row]:
    """The file's rows, header first, blank lines skipped."""
    limit = max_line_bytes or settings.ICI_INVOICE_FILE_MAX_LINE_BYTES
    with open(path, "rb") as raw:
        lines = Lines(raw, encoding, limit)
        reader = csv.reader(lines, PipeDialect)
        consumed = 0
        while True:
            lines.record_chars = 0
            try:
                fields = next(reader)
            except StopIteration:
                return
            except LineTooLong as e:
                line, consumed = consumed + 1, lines.line_num
                yield Row(line, None, str(e), too_long=True)
                continue
            except csv.Error as e:
                line, consumed = consumed + 1, lines.line_num
                yield Row(line, None, f"the row cannot be read ({e})")
                continue
            line, consumed = consumed + 1, lines.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            yield Row(line, fields)
