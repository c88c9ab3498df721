"""Hostile and odd requests to /chatkit: always a clear 4xx or a normal answer, never a 500."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import AsyncClient

from chat.models import Thread
from chat.tests import chatkit_client as ck
from chat.tests.test_views import new_thread, post
from chat.text import without_nul

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


# --- parsing: no recursion on hostile input, any parser failure is 400 -----------------

DEEP_WITH_NUL = (
    b'{"type": "threads.list", "params": {"x": "\\u0000", "y": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}}"
)
DEEP_OBJECTS_WITH_NUL = b'{"a\\u0000": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001


@pytest.mark.parametrize(
    "body", [DEEP_WITH_NUL, DEEP_OBJECTS_WITH_NUL, b"[" * 100_000], ids=["list", "dict", "no-nul"]
)
async def test_deep_nesting_is_400_never_500(async_client, user, bearer, body):
    response = await post(async_client, body, bearer(user))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "bad_request"


def test_nul_stripping_is_not_recursive():
    deep: list = ["\x00"]
    for _ in range(100_000):
        deep = [deep, {"k\x00": "v\x00"}]
    cleaned = without_nul(deep)
    for _ in range(100_000):
        assert cleaned[1] == {"k": "v"}
        cleaned = cleaned[0]
    assert cleaned == [""]


# --- SPEC "Limits" -------------------------------------------------------------------


async def test_a_message_over_the_limit_is_400_and_at_the_limit_is_answered(
    async_client, user, bearer, settings
):
    settings.CHATKIT = {**settings.CHATKIT, "MAX_MESSAGE_CHARS": 500}
    over = await post(async_client, ck.create_thread("x" * 501), bearer(user))
    assert over.status_code == HTTPStatus.BAD_REQUEST
    assert over.json()["error"]["code"] == "bad_request"
    assert "500 characters" in over.json()["error"]["message"]
    assert not await Thread.objects.aexists()  # nothing stored

    thread_id, events = await new_thread(async_client, bearer(user), "x" * 500)
    assert ck.assistant_text(events)
    follow_up = await post(async_client, ck.add_message(thread_id, "y" * 501), bearer(user))
    assert follow_up.status_code == HTTPStatus.BAD_REQUEST


async def test_the_default_message_limit_is_specs_8000(async_client, user, bearer):
    over = await post(async_client, ck.create_thread("x" * 8001), bearer(user))
    assert over.status_code == HTTPStatus.BAD_REQUEST
    assert "at most 8000 characters" in over.json()["error"]["message"]
    assert not await Thread.objects.aexists()

    thread_id, events = await new_thread(async_client, bearer(user), "x" * 8000)
    assert ck.assistant_text(events)
    assert await Thread.objects.filter(id=thread_id).aexists()


async def test_a_thread_title_over_200_characters_is_400(async_client, user, bearer):
    thread_id, _ = await new_thread(async_client, bearer(user), "hi")
    over = await post(async_client, ck.update_thread(thread_id, "t" * 201), bearer(user))
    assert over.status_code == HTTPStatus.BAD_REQUEST
    assert over.json()["error"]["code"] == "bad_request"

    ok = await post(async_client, ck.update_thread(thread_id, "t" * 200), bearer(user))
    assert ok.status_code == HTTPStatus.OK
    assert (await Thread.objects.aget(id=thread_id)).title == "t" * 200


async def test_list_requests_are_capped_to_the_page_size(async_client, user, bearer, settings):
    settings.CHATKIT = {**settings.CHATKIT, "MAX_PAGE_SIZE": 2}
    for text in ("one", "two", "three"):
        await new_thread(async_client, bearer(user), text)
    response = await post(async_client, ck.list_threads(limit=1000), bearer(user))
    assert response.status_code == HTTPStatus.OK
    page = response.json()
    assert len(page["data"]) == 2 and page["has_more"] is True


def _message(**overrides) -> dict:
    """A threads.create body's `input`, plain text unless `overrides` say otherwise."""
    return {
        "content": [{"type": "input_text", "text": "hi"}],
        "attachments": [],
        "inference_options": {},
        **overrides,
    }


LONG = "x" * 9_000


@pytest.mark.parametrize(
    "message",
    [
        _message(inference_options={"model": LONG}),
        _message(inference_options={"tool_choice": {"id": LONG}}),
        _message(content=[{"type": "input_tag", "id": LONG, "text": "t", "data": {}}]),
        _message(content=[{"type": "input_tag", "id": "t", "text": LONG, "data": {}}]),
        _message(
            content=[{"type": "input_tag", "id": "t", "text": "t", "data": {}, "group": LONG}]
        ),
        _message(quoted_text=LONG),
    ],
    ids=["model", "tool_choice", "tag_id", "tag_text", "tag_group", "quoted_text"],
)
async def test_every_string_of_a_message_counts_toward_its_limit(
    async_client, user, bearer, message
):
    # Issue 20 #4: only text, quoted text and tag data were counted, so 900,000
    # characters in a model name or a tag id were stored.
    response = await post(async_client, _req("threads.create", input=message), bearer(user))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "bad_request"
    assert not await Thread.objects.aexists()


@pytest.mark.parametrize(
    "request_type, params",
    [
        (
            "items.feedback",
            {"thread_id": "thr_x", "item_ids": ["m" * 100] * 100, "kind": "positive"},
        ),
        ("threads.custom_action", {"thread_id": "thr_x", "item_id": LONG, "action": {"type": "x"}}),
        (
            "threads.custom_action",
            {"thread_id": "thr_x", "action": {"type": "todo.complete", "payload": {"p": LONG}}},
        ),
        ("threads.add_client_tool_output", {"thread_id": "thr_x", "result": {"r": LONG}}),
        ("attachments.create", {"name": LONG, "size": 1, "mime_type": "text/plain"}),
        ("items.list", {"thread_id": LONG}),
    ],
    ids=["feedback", "item_id", "action_payload", "tool_output", "attachment_name", "thread_id"],
)
async def test_other_request_strings_are_bounded_too(
    async_client, user, bearer, request_type, params
):
    body = json.dumps({"type": request_type, "params": params}).encode()
    response = await post(async_client, body, bearer(user))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "bad_request"


async def test_a_lone_surrogate_beside_a_nul_is_400_before_any_thread(
    async_client, user, bearer, caplog
):
    # Issue 20 #7: a body with a NUL took json.loads, which accepts a lone surrogate: the
    # thread was created, the message lost (it cannot be stored) and an exception logged.
    body = _req("threads.create", input=_message()).replace(b'"hi"', b'"hi \\ud800 \\u0000"')
    response = await post(async_client, body, bearer(user))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "bad_request"
    assert not await Thread.objects.aexists()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.parametrize("thread_id", ["%00", "thr_%00x", "%ED%A0%80", "%F0%9F%98%80", "x" * 5000])
@pytest.mark.parametrize("method,action", [("post", "stop"), ("get", "events")])
async def test_odd_thread_ids_in_a_runs_path_are_404(
    async_client, user, bearer, thread_id, method, action
):
    """A NUL is no thread id: PostgreSQL refuses it in a query (a 500 before this test)."""
    path = f"/api/chatkit/threads/{thread_id}/{action}"
    response = await getattr(async_client, method)(path, headers=bearer(user))
    assert response.status_code == HTTPStatus.NOT_FOUND, response.content
    assert response.json()["error"]["code"] == "not_found"


GET_ONLY = [
    "/api/chatkit/usage",
    "/api/chatkit/entities",
    "/api/chatkit/entities/1/preview",
    "/metrics",
    "/healthz",
]


@pytest.mark.parametrize("path", GET_ONLY)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
async def test_a_wrong_method_on_a_get_endpoint_is_a_json_405(user, bearer, settings, path, method):
    """Before, Django's CSRF check answered first: an HTML 403 page, not SPEC's 405
    (a server checks CSRF; the test client does only when asked to)."""
    settings.USAGE = {**settings.USAGE, "METRICS_TOKEN": "metrics-token"}
    client = AsyncClient(enforce_csrf_checks=True)
    response = await getattr(client, method)(path, headers=bearer(user))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, response.content[:200]
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"
