"""Hostile and odd requests to /chatkit: always a clear 4xx or a normal answer, never a 500."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from chat.tests.test_views import new_thread, post

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = b'{"type": "threads.list", "params": ' + b"[" * 5000 + b"]" * 5000 + b"}"


def _req(kind: str, **params) -> bytes:
    return json.dumps({"type": kind, "params": params}).encode()


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        _req("threads.list", limit=-5),
        _req("threads.list", limit=10**12),
        _req("threads.list", order="sideways"),
        _req("threads.list", after="x" * 10_000),
        _req("items.list", thread_id="x" * 10_000),
        _req("items.list", thread_id="' OR 1=1 --"),
        _req("threads.get_by_id", thread_id=None),
        json.dumps({"type": "threads.create", "params": {"input": "hi"}}).encode(),
        json.dumps({"type": None}).encode(),
        b'"just a string"',
        b"\xff\xfe\x00garbage",
        b"null",
    ],
)
async def test_odd_bodies_never_500(async_client, user, bearer, body):
    response = await post(async_client, body, bearer(user))
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    if response.status_code != HTTPStatus.OK:
        assert response.json()["error"]["code"] in {"bad_request", "not_found"}


async def test_an_unknown_after_cursor_is_404(async_client, user, bearer):
    thread_id, _ = await new_thread(async_client, bearer(user), "hi")
    body = _req("items.list", thread_id=thread_id, after="msg_not_there", limit=5, order="asc")
    response = await post(async_client, body, bearer(user))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "not_found"
