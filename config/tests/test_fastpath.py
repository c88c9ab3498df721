"""/chatkit served first in MIDDLEWARE: the header-only hooks still apply, browser-session
middleware is skipped, and an unknown middleware turns the fast path off."""

from __future__ import annotations

import threading
from http import HTTPStatus

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_started
from django.db import connection
from django.test import AsyncClient

from chat.tests import chatkit_client as ck
from config.fastpath import ChatKitASGIHandler, ChatKitFastPathMiddleware

pytestmark = pytest.mark.django_db(transaction=True)

FRONTEND = "http://localhost:3000"


async def test_chatkit_keeps_security_cors_and_frame_headers(user, bearer, settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = [FRONTEND]
    response = await AsyncClient().post(
        "/chatkit",
        ck.create_thread("hello"),
        content_type="application/json",
        headers={**bearer(user), "Origin": FRONTEND},
    )
    assert response.status_code == HTTPStatus.OK
    await ck.read_stream(response.streaming_content)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert "origin" in response["Vary"].lower()
    # No session was touched: no cookie, no Vary: Cookie.
    assert "cookie" not in response["Vary"].lower()
    assert not response.cookies


async def test_the_https_redirect_still_applies(user, bearer, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = await AsyncClient().post(
        "/chatkit", ck.create_thread("hello"), content_type="application/json", headers=bearer(user)
    )
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"].startswith("https://")


async def test_a_refusal_is_specs_json_error(settings) -> None:
    response = await AsyncClient().post("/chatkit", b"{}", content_type="application/json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"


def test_an_unknown_middleware_turns_the_fast_path_off(settings, caplog) -> None:
    async def get_response(request):  # pragma: no cover - never called here
        raise AssertionError

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "example.SomethingNewMiddleware"]
    middleware = ChatKitFastPathMiddleware(get_response)

    assert middleware.hooks is None
    assert "example.SomethingNewMiddleware" in caplog.text


def test_the_shipped_middleware_list_is_fully_known(settings) -> None:
    async def get_response(request):  # pragma: no cover - never called here
        raise AssertionError

    assert ChatKitFastPathMiddleware(get_response).hooks is not None


async def _request(app: ChatKitASGIHandler, method: str, path: str) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=10)
    while (await communicator.receive_output(timeout=10)).get("more_body"):
        pass
    await communicator.wait(timeout=10)
    return start["status"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="with the async database only")
async def test_chatkit_requests_get_no_thread_of_their_own(settings) -> None:
    settings.CHATKIT = {**settings.CHATKIT, "ASYNC_DATABASE": True}
    threads: list[str] = []

    def record(**kwargs: object) -> None:  # Django's signal hop: on which thread?
        threads.append(threading.current_thread().name)

    request_started.connect(record)
    try:
        app = ChatKitASGIHandler()
        statuses = [await _request(app, "POST", "/chatkit") for _ in range(2)]
        statuses += [await _request(app, "GET", "/api/me/") for _ in range(2)]
    finally:
        request_started.disconnect(record)

    assert statuses == [HTTPStatus.UNAUTHORIZED] * 4
    chat_first, chat_second, other_first, other_second = threads
    assert chat_first == chat_second  # asgiref's one shared sync thread
    assert other_first != other_second  # elsewhere, Django's new thread per request


def test_with_an_unknown_middleware_chatkit_keeps_its_thread(settings) -> None:
    # The fast path is off then, and /chatkit's sync middleware needs Django's thread.
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    assert not ChatKitASGIHandler().threadless_chatkit
    settings.MIDDLEWARE = settings.MIDDLEWARE[:-1]
    assert ChatKitASGIHandler().threadless_chatkit
