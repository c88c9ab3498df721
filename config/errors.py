"""SPEC's error body, built in one place for views, DRF and the ASGI edge."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from pydantic import ValidationError
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config.exceptions import ApiError

logger = logging.getLogger(__name__)

GENERIC_500 = "Something went wrong on our side. Please try again."


def first_validation_error(exc: ValidationError) -> tuple[str, str, str]:
    """A pydantic ValidationError's first error as (type, where, message): `where` is
    its dotted location (empty at the top), `message` without pydantic's prefix."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    return str(first.get("type", "")), where, message


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, **extra), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def method_not_allowed(allowed: str) -> JsonResponse:
    """SPEC's 405, with the methods the endpoint answers in `Allow`."""
    return error_response(
        HTTPStatus.METHOD_NOT_ALLOWED,
        "method_not_allowed",
        f"Use {allowed}.",
        headers={"Allow": allowed},
    )


def api_error_response(exc: ApiError) -> JsonResponse:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Map every DRF/Django exception to SPEC's JSON body (never a trace)."""
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, ApiError):
        status, code, message, headers = exc.status, exc.code, exc.message, exc.headers
    elif isinstance(exc, RequestDataTooBig):
        status, code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large"
        message = "Request body is too large."
    elif isinstance(exc, SuspiciousOperation):  # e.g. TooManyFieldsSent: a client's error
        status, code, message = HTTPStatus.BAD_REQUEST, "bad_request", "Bad request."
    elif isinstance(exc, RecursionError):  # hostile JSON nesting
        status, code = HTTPStatus.BAD_REQUEST, "bad_request"
        message = "Request body is nested too deeply."
    elif isinstance(exc, Http404 | drf_exceptions.NotFound):
        status, code, message = HTTPStatus.NOT_FOUND, "not_found", "Not found."
    elif isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        status, code, message = HTTPStatus.UNAUTHORIZED, "auth_error", str(exc.detail)
        request = getattr(context.get("request"), "_request", None)
        if isinstance(exc, drf_exceptions.NotAuthenticated):
            message = getattr(request, "auth_hint", None) or message
        headers = {"WWW-Authenticate": 'Bearer realm="api"'}
    elif isinstance(exc, drf_exceptions.PermissionDenied):
        # CSRF failures on session auth land here: report them as auth errors.
        status, code, message = HTTPStatus.UNAUTHORIZED, "auth_error", str(exc.detail)
        headers = {"WWW-Authenticate": 'Bearer realm="api"'}
    elif isinstance(exc, drf_exceptions.MethodNotAllowed):
        status, code, message = HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", str(exc.detail)
    elif isinstance(exc, drf_exceptions.Throttled):
        wait = int(exc.wait or 1)
        status, code, message = HTTPStatus.TOO_MANY_REQUESTS, "rate_limit", str(exc.detail)
        headers = {"Retry-After": str(wait)}
    elif isinstance(exc, drf_exceptions.UnsupportedMediaType | drf_exceptions.ParseError):
        status, code, message = HTTPStatus.BAD_REQUEST, "bad_request", str(exc.detail)
    elif isinstance(exc, drf_exceptions.ValidationError):
        status, code = HTTPStatus.BAD_REQUEST, "bad_request"
        message = _first_message(exc.detail)
        extra = {"fields": exc.detail}
    elif isinstance(exc, drf_exceptions.APIException):
        status, code, message = exc.status_code, "bad_request", str(exc.detail)
        if status >= 500:
            code, message = "internal_error", GENERIC_500
    else:
        logger.exception("Unhandled error in API view", exc_info=exc)
        status, code, message = HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", GENERIC_500
    set_rollback()
    return Response(error_body(code, message, **extra), status=status, headers=headers)


# Django's own handlers, so unknown URLs and crashes outside DRF speak JSON too
# under /api/ and /chatkit (HTML pages keep Django's templates).
def handler404(request, exception=None):
    return error_response(HTTPStatus.NOT_FOUND, "not_found", "Not found.")


def handler500(request):
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", GENERIC_500)


def handler400(request, exception=None):
    return error_response(HTTPStatus.BAD_REQUEST, "bad_request", "Bad request.")


def handler403(request, exception=None):
    return error_response(HTTPStatus.NOT_FOUND, "not_found", "Not found.")
