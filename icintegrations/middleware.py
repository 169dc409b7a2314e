"""A request id on every request, and the last-resort answer of the API.

`RequestIdMiddleware` (first in MIDDLEWARE) keeps the caller's `X-Request-ID`
when it is 1 to 128 printable ASCII characters, else makes one (32 hex
digits); the response carries it back, and every log line written while the
request runs carries it too (`RequestIdFilter`, `[request_id]` in the format).
Under /api/ an exception that nothing else answered becomes 500
`internal_error` JSON with the request id, its traceback logged.
"""

import contextlib
import contextvars
import logging
import re
import uuid
from collections.abc import Iterator

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, JsonResponse

from icintegrations.errors import ErrorCode

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_VALID = re.compile(r"[\x20-\x7e]{1,128}")
# Django answers these itself (400, 403, 404: JSON under /api/, icintegrations.api).
_ANSWERED_BY_DJANGO = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
logger = logging.getLogger("icintegrations.requests")


def current_request_id() -> str:
    """The running request's id, "-" outside a request."""
    return request_id_var.get()


@contextlib.contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Run a block (a worker's task) under the request id it was enqueued with,
    so that its log lines carry it; None or "-" leaves the current one."""
    if not request_id or request_id == "-":
        yield
        return
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def internal_error(request) -> JsonResponse:
    request_id = getattr(request, "request_id", None) or current_request_id()
    return JsonResponse(
        {
            "code": ErrorCode.INTERNAL_ERROR,
            "message": "Something went wrong in the hub. Quote the request id when reporting it.",
            "extra": {"request_id": request_id},
        },
        status=500,
    )


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (for `%(request_id)s` in a format)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            # django.request's lines (4xx, 5xx) are written after the middleware
            # returned; they carry the request itself.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or current_request_id()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(_META_KEY, "")
        request_id = incoming if _VALID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response

    def process_exception(self, request, exception):
        if not is_api(request) or isinstance(exception, _ANSWERED_BY_DJANGO):
            return None
        logger.error(
            "Unhandled exception on %s %s",
            request.method,
            request.path,
            exc_info=(type(exception), exception, exception.__traceback__),
            extra={"request_id": request.request_id},
        )
        return internal_error(request)
