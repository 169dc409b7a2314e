"""OpenAPI description of the hub's own authentication, input fields and error
answers (drf-spectacular)."""

import re
from collections.abc import Iterable, Mapping

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.utils import OpenApiResponse

from icintegrations.errors import PARTNER_ERRORS, ErrorCode


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "icintegrations.authentication.BearerTokenAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token (`manage.py create_api_client`).",
        }


class _StrictFieldExtension(OpenApiSerializerFieldExtension):
    """The strict input fields of icintegrations.fields: a string with its pattern."""

    schema: dict = {}

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": f"^{self.target.pattern}$", **self.schema}


class MoneyFieldExtension(_StrictFieldExtension):
    target_class = "icintegrations.fields.MoneyField"
    schema = {"format": "decimal", "example": "25.00"}


class OffsetDateTimeFieldExtension(_StrictFieldExtension):
    target_class = "icintegrations.fields.OffsetDateTimeField"
    schema = {"format": "date-time", "example": "2026-11-24T05:58:40Z"}


class CanonicalUUIDFieldExtension(_StrictFieldExtension):
    target_class = "icintegrations.fields.CanonicalUUIDField"
    schema = {"format": "uuid", "example": "c9e18d52-e770-4935-8da2-9f262c8ba587"}


# What str.isprintable() refuses, as far as a JSON Schema pattern can say it:
# control characters (C0, DEL, C1), the common format characters, line and
# paragraph separators and private use; whitespace other than a space is refused
# by \s. (Unassigned code points and lone surrogates, which no URL carries, are
# refused too, unlisted: a range of surrogates is no regex for every validator.)
UNPRINTABLE = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f"
    r"\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff"
)


def printable_pattern(*, blank: bool, also_refused: str = "") -> str:
    """Text for which str.isprintable() holds: spaces and visible characters,
    with at least one visible character unless `blank`."""
    visible = rf"[^\s{re.escape(also_refused)}{UNPRINTABLE}]"
    if blank:
        return rf"^(?:{visible}| )*$"
    return rf"^ *{visible}(?:{visible}| )*$"


# What an operation of the API can answer besides its own success, whatever it
# does: the codes of icintegrations.api's handlers (and of the JSON parser, the
# body limit and the last-resort handler in front of every /api/ route).
COMMON_ERRORS: dict[int, tuple[str, ...]] = {
    400: (ErrorCode.INVALID_REQUEST, ErrorCode.MALFORMED_REQUEST),
    401: (ErrorCode.NOT_AUTHENTICATED, ErrorCode.AUTHENTICATION_FAILED),
    404: (ErrorCode.NOT_FOUND,),
    405: (ErrorCode.METHOD_NOT_ALLOWED,),
    413: (ErrorCode.REQUEST_TOO_LARGE,),
    500: (ErrorCode.INTERNAL_ERROR,),
}
# An operation that reads a JSON body: a body that is not JSON, or not sent as JSON.
BODY_ERRORS: dict[int, tuple[str, ...]] = {
    415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE,),
}
# An operation whose answer is JSON: an Accept header that excludes it.
JSON_ANSWER_ERRORS: dict[int, tuple[str, ...]] = {406: (ErrorCode.NOT_ACCEPTABLE,)}
# An operation under a throttle_scope (icintegrations.throttling).
THROTTLED_ERRORS: dict[int, tuple[str, ...]] = {429: (ErrorCode.THROTTLED,)}

_DESCRIPTIONS = {
    400: "The request is invalid; `extra` names the field where one is at fault.",
    401: "No API client token, or one that is not valid.",
    404: "No such endpoint, biller (for this client) or object.",
    405: "The endpoint does not take this method.",
    406: "The Accept header excludes what the endpoint answers with.",
    409: "Conflicts with what an earlier request did.",
    413: "The request body is larger than the hub takes.",
    415: "The body's Content-Type is not one the endpoint reads.",
    422: "Refused by the biller's policy; the code names the rule.",
    429: "Too many requests; `extra.retry_after_seconds` says when to try again.",
    500: "An unexpected failure of the hub; `extra.request_id` finds it in the log.",
    502: "The partner answered, but not usefully.",
    503: "The partner cannot be reached.",
    504: "The partner did not answer in time.",
}


def error_schema(codes: Iterable[str]) -> dict:
    """The error body `{code, message, extra}`, its code one of `codes`."""
    return {
        "type": "object",
        "properties": {
            "code": {"type": "string", "enum": sorted({str(code) for code in codes})},
            "message": {"type": "string"},
            "extra": {"type": "object", "additionalProperties": {}},
        },
        "required": ["code", "message"],
    }


def error_responses(
    *tables: Mapping[int, Iterable[str]], json_body: bool = False, json_answer: bool = True
) -> dict[int, OpenApiResponse]:
    """Every error an operation answers with, by status, each with its codes:
    COMMON_ERRORS, BODY_ERRORS for `json_body`, JSON_ANSWER_ERRORS for
    `json_answer`, and the operation's own `tables` (its codes taken from the
    code that raises them, e.g. payments' ACCEPT_REFUSALS)."""
    merged: dict[int, set[str]] = {}
    tables = (
        COMMON_ERRORS,
        *((BODY_ERRORS,) if json_body else ()),
        *((JSON_ANSWER_ERRORS,) if json_answer else ()),
        *tables,
    )
    for table in tables:
        for status, codes in table.items():
            merged.setdefault(status, set()).update(str(code) for code in codes)
    return {
        status: OpenApiResponse(error_schema(merged[status]), description=_DESCRIPTIONS[status])
        for status in sorted(merged)
    }


def partner_errors(codes: Iterable[ErrorCode]) -> dict[int, tuple[str, ...]]:
    """The 502/503/504 codes of an operation that calls the partner and tells
    `codes` apart (errors.partner_error); any other ends as partner_unavailable."""
    table: dict[int, list[str]] = {}
    for code in (*codes, ErrorCode.PARTNER_UNAVAILABLE):
        error_class, _message = PARTNER_ERRORS[code]
        table.setdefault(error_class.status_code, []).append(code)
    return {status: tuple(codes) for status, codes in table.items()}
