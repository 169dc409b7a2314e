"""One error shape for every API answer, `{"code", "message", "extra"}`, with a
stable code (authentication lives in icintegrations.authentication)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from icintegrations.errors import ApplicationError, ErrorCode
from icintegrations.middleware import internal_error, is_api

_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "invalid_request",
}


class FileContentNegotiation(DefaultContentNegotiation):
    """For an endpoint that answers a file (the bill PDF, the BIF): its answer is
    the file whatever the Accept header says (`Accept: application/pdf` or
    `text/plain` is no 406), and its errors are JSON as everywhere."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(
            {"code": exc.code, "message": exc.message, "extra": exc.extra},
            status=exc.status_code,
        )
    if isinstance(exc, RequestDataTooBig):  # from request.body, read by DRF's JSON parser
        return Response(request_too_large(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: icintegrations.middleware answers 500 internal_error
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": code, "message": "The request is invalid.", "extra": response.data}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        body = {"code": code, "message": str(detail), "extra": {}}
        if isinstance(exc, exceptions.Throttled):
            # djangorestframework-stubs lack Throttled.wait (seconds, or None).
            wait = exc.wait  # type: ignore[attr-defined]
            if wait is not None:
                body["extra"] = {"retry_after_seconds": int(wait)}
    response.data = body
    return response


def request_too_large() -> dict:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return {
        "code": ErrorCode.REQUEST_TOO_LARGE,
        "message": f"The request body may be at most {limit} bytes.",
        "extra": {"max_bytes": limit},
    }


# Django's error views (handler400, 403, 404, 500 in icintegrations.urls): JSON
# under /api/, Django's HTML pages elsewhere (the admin, the portal).


def _error(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "extra": {}}, status=status_code)


def json_400(request, exception=None):
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(request_too_large(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return _error(ErrorCode.MALFORMED_REQUEST, "The request could not be read.", 400)


def json_403(request, exception=None):
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return _error(ErrorCode.PERMISSION_DENIED, "You may not do this.", 403)


def json_404(request, exception=None):
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return _error(ErrorCode.NOT_FOUND, "No such endpoint.", 404)


def json_500(request):
    if not is_api(request):
        return defaults.server_error(request)
    return internal_error(request)


@csrf_exempt
def api_not_found(request, rest=""):
    """Every /api/ path no route matched. A GET for a path that exists with a
    slash is sent there (as APPEND_SLASH does, which a catch-all disables)."""
    if request.method in {"GET", "HEAD"} and not request.path.endswith("/"):
        match = resolve_or_none(f"{request.path}/")
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return json_404(request)


def resolve_or_none(path: str):
    try:
        return resolve(path)
    except Resolver404:
        return None
