"""`GET /metrics`: Prometheus text behind METRICS_TOKEN (404 when it is unset)."""

from __future__ import annotations

import hmac
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import error_response, method_not_allowed
from usage.metrics import exposition


@csrf_exempt  # GET only: any other method is a JSON 405, not the CSRF check's HTML 403
def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed("GET")
    expected = settings.USAGE["METRICS_TOKEN"]
    if not expected:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "Not found.")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    given = token.strip().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected.encode()):
        response = error_response(
            HTTPStatus.UNAUTHORIZED,
            "auth_error",
            "Authorization: Bearer $METRICS_TOKEN is required.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type, headers={"Cache-Control": "no-store"})
