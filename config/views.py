"""Operational endpoints."""

from http import HTTPStatus

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import method_not_allowed


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        connection.close_if_unusable_or_obsolete()
        return False
    finally:
        connection.close()


@csrf_exempt  # GET only: any other method is a JSON 405, not the CSRF check's HTML 403
async def healthz(request: HttpRequest) -> JsonResponse:
    if request.method != "GET":
        return method_not_allowed("GET")
    if await sync_to_async(_database_answers)():
        return JsonResponse({"status": "ok"})
    return JsonResponse(
        {
            "status": "unavailable",
            "error": {"code": "internal_error", "message": "Database unavailable."},
        },
        status=HTTPStatus.SERVICE_UNAVAILABLE,
    )
