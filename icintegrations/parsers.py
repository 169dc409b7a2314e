"""The API's JSON parser: DRF's, with two refusals that keep a bad body a 400.

- Nesting deeper than `MAX_DEPTH` is refused before the body is decoded: the
  standard library's decoder recurses once per level, so 100,000 levels of `[`
  would end in a `RecursionError` (a 500). The depth is measured without
  recursion, in C-speed passes over the bytes.
- A string that is not text (invalid UTF-8, or a lone surrogate such as the JSON
  escape `"\\ud800"`) is refused naming its field: such a string cannot be
  encoded again, so an error message that quoted it would fail to render.
"""

import codecs
import re
from itertools import accumulate

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from icintegrations.errors import ApplicationError, ErrorCode

MAX_DEPTH = 64

# A JSON string, escapes included (the unrolled-loop form: no backtracking).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body`, brackets inside
    strings aside (an unterminated string's brackets count: the body is refused
    either way)."""
    if body.count(b"[") + body.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _first_unencodable(data) -> str | None:
    """The path (`payer.names.0`) of the first key or string that holds a
    surrogate, or None. Iterative; the depth is already bounded."""
    todo: list[tuple[str, object]] = [("", data)]
    while todo:
        path, value = todo.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path or "non_field_errors"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                here = f"{path}.{key}" if path else key
                if _SURROGATE.search(key):
                    return _printable(here)
                todo.append((here, item))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                todo.append((f"{path}.{index}" if path else str(index), value[index]))
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (a subclass, so DRF still reads the body through
    `request.body` and Django's size limit applies: 413 request_too_large, see
    icintegrations.api) with a depth limit and text-only strings."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = _text_encoding(parser_context or {})
        body = stream.read()
        try:
            # Undecodable bytes become lone surrogates, found below with their field.
            text = body.decode(encoding, errors="surrogateescape")
        except UnicodeError:  # e.g. UTF-16 of an odd length
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from None
        if codecs.lookup(encoding).name != "utf-8":  # the scan reads UTF-8 bytes
            body = text.encode("utf-8", "surrogatepass")
        if json_depth(body) > MAX_DEPTH:
            raise ApplicationError(
                f"The JSON body is nested deeper than {MAX_DEPTH} levels.",
                code=ErrorCode.INVALID_REQUEST,
                extra={"max_depth": MAX_DEPTH},
            )
        try:
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {_printable(str(exc))}") from None
        field = _first_unencodable(data)
        if field is not None:
            raise ApplicationError(
                f"{field}: not valid text (invalid {encoding} or a lone surrogate).",
                code=ErrorCode.INVALID_REQUEST,
                extra={field: ["Not valid text: invalid UTF-8 or a lone surrogate."]},
            )
        return data


def _text_encoding(parser_context) -> str:
    """The request's charset, refused unless it is a text encoding (a bytes
    codec such as bz2_codec would expand the body after its size was checked)."""
    encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
    try:
        "".encode(encoding)
    except (LookupError, UnicodeError):
        raise ParseError(f"Unsupported charset {encoding!r} in the Content-Type.") from None
    return encoding
