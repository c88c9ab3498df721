"""413 for every endpoint, decided before Django reads the body (config/body_limit.py):
from `Content-Length` at once, and for chunked bodies as they stream."""

from __future__ import annotations

import asyncio
import json
import socket
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 1_048_576


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def call(scope: dict[str, Any], receive) -> tuple[int, dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


@pytest.mark.parametrize("path", ["/chatkit", "/api/todos/", "/api/chatkit/session", "/nowhere"])
async def test_a_declared_content_length_over_the_limit_is_413_without_reading(path):
    async def receive() -> dict[str, Any]:
        raise AssertionError("the body must not be read")

    scope = http_scope(path, [(b"content-length", b"400000000")])  # 400 MB, never sent
    status, body = await call(scope, receive)

    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert body["error"]["code"] == "payload_too_large"


async def test_a_chunked_body_over_the_limit_is_413_and_reading_stops_there():
    chunk = b"x" * 65_536
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": True}  # endless

    status, body = await call(http_scope("/chatkit", []), receive)

    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert body["error"]["code"] == "payload_too_large"
    assert reads == LIMIT // len(chunk) + 1  # not one chunk past the limit


async def test_a_body_within_the_limit_reaches_django(user, bearer):
    payload = json.dumps({"title": "t", "description": "d" * 9_000}).encode()
    chunks = [payload[:5000], payload[5000:]]

    async def receive() -> dict[str, Any]:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
        await asyncio.Event().wait()  # the client stays connected (Django listens for it)
        raise AssertionError("unreachable")

    auth = bearer(user)["Authorization"].encode()
    length = str(len(payload)).encode()
    scope = http_scope("/api/todos/", [(b"authorization", auth), (b"content-length", length)])
    status, body = await call(scope, receive)
    assert status == HTTPStatus.CREATED, body
    assert body["description"] == "d" * 9_000  # every byte of both chunks arrived


@pytest.mark.slow
@pytest.mark.parametrize("server_kind", ["daphne", "uvicorn"])
@pytest.mark.parametrize("path", ["/chatkit", "/api/todos/"])
@pytest.mark.parametrize("declared", [400_000_000, 2 * LIMIT])
def test_a_real_server_answers_413_before_the_body_is_sent(
    run_server, server_kind, path, declared
) -> None:
    """Just over this path's own limit (not only over the uploads' larger one) is
    answered from the headers, with this path's limit in the message."""
    server = run_server(server=server_kind)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(request)  # and not one byte of the body
        answer = b""
        while chunk := conn.recv(65536):  # the server closes after its answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"payload_too_large" in answer
    assert f"larger than {LIMIT} bytes".encode() in answer


@pytest.mark.slow
@pytest.mark.parametrize("server_kind", ["daphne", "uvicorn"])
def test_a_real_server_answers_413_for_big_rest_and_chunked_bodies(
    run_server, user, bearer, server_kind
) -> None:
    server = run_server(server=server_kind)
    headers = bearer(user)

    big = httpx.post(
        f"{server.url}/api/todos/",
        json={"title": "t", "description": "d" * 3_000_000},
        headers=headers,
        timeout=30,
    )
    assert big.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE, big.text
    assert big.json()["error"]["code"] == "payload_too_large"

    def chunks():
        for _ in range(40):  # 2.6 MB in 64 KB chunks, no Content-Length
            yield b"x" * 65_536

    try:
        chunked = httpx.post(f"{server.url}/chatkit", content=chunks(), headers=headers, timeout=30)
    except httpx.HTTPError:
        pytest.fail("the server must answer 413, not drop the connection")
    assert chunked.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert chunked.json()["error"]["code"] == "payload_too_large"
