"""`POST /chatkit` end to end through Django's ASGI stack, with real tokens and the
offline model driving the real agent, tools and store."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

import pytest
from chatkit.server import ChatKitServer
from django.test import AsyncClient

from accounts.client_secrets import mint_client_secret
from chat.models import Thread, ThreadItem
from chat.server import get_server
from chat.services import thread_purge
from chat.tests import chatkit_client as ck
from chat.tests.factories import thread_metadata
from chat.views import _refusal
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


async def post(client: AsyncClient, body: bytes, headers: dict[str, str]):
    return await client.post("/chatkit", body, content_type="application/json", headers=headers)


async def stream(client: AsyncClient, body: bytes, headers: dict[str, str]):
    response = await post(client, body, headers)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    raw = await ck.read_stream(response.streaming_content)
    return ck.parse_sse(raw)


async def new_thread(client, headers, text="hello") -> tuple[str, list]:
    events = await stream(client, ck.create_thread(text), headers)
    return events[0].thread.id, events


async def test_add_buy_milk_creates_the_todo_for_that_user_only(
    async_client, user, other_user, bearer
):
    events = await stream(async_client, ck.create_thread("add buy milk"), bearer(user))

    types = [event.type for event in events]
    assert types[0] == "thread.created"
    assert types[1] == "thread.item.done" and events[1].item.type == "user_message"
    assert types[2] == "stream_options"
    added = types.index("thread.item.added")
    done = max(i for i, e in enumerate(events) if e.type == "thread.item.done")
    assert added < types.index("thread.item.updated") < done
    assert "client_effect" in types
    assert events[types.index("client_effect")].name == "todos.changed"
    assert types[-1] == "thread.updated"
    assert events[-1].thread.title

    assert "buy milk" in ck.assistant_text(events).lower()
    assert [t.title async for t in Todo.objects.filter(owner=user)] == ["buy milk"]
    assert not await Todo.objects.filter(owner=other_user).aexists()

    thread_id = events[0].thread.id
    thread = await Thread.objects.aget(id=thread_id)
    assert thread.owner_id == user.pk
    kinds = [item.type async for item in ThreadItem.objects.filter(thread=thread)]
    assert kinds[0] == "user_message" and "assistant_message" in kinds


async def test_list_complete_and_delete_change_the_database(async_client, user, bearer):
    headers = bearer(user)
    thread_id, _ = await new_thread(async_client, headers, "add Walk the dog")
    await stream(async_client, ck.add_message(thread_id, "ADD pay rent"), headers)
    dog = await Todo.objects.aget(owner=user, title="Walk the dog")

    listed = await stream(async_client, ck.add_message(thread_id, "list"), headers)
    text = ck.widget_item(listed).copy_text
    assert "Walk the dog" in text and "pay rent" in text

    await stream(async_client, ck.add_message(thread_id, "complete walk the dog"), headers)
    await dog.arefresh_from_db()
    assert dog.completed

    rent = await Todo.objects.aget(owner=user, title="pay rent")
    await stream(async_client, ck.add_message(thread_id, f"delete #{rent.pk}"), headers)
    assert not await Todo.objects.filter(pk=rent.pk).aexists()

    open_list = ck.widget_item(
        await stream(async_client, ck.add_message(thread_id, "show my todos"), headers)
    ).copy_text
    assert "pay rent" not in open_list


async def test_threads_and_items_list_back(async_client, user, bearer):
    headers = bearer(user)
    first, _ = await new_thread(async_client, headers, "add one")
    second, _ = await new_thread(async_client, headers, "add two")

    response = await post(async_client, ck.list_threads(limit=1), headers)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    page = response.json()
    assert [t["id"] for t in page["data"]] == [second]  # newest first
    assert page["has_more"] is True
    rest = (await post(async_client, ck.list_threads(limit=5, after=page["after"]), headers)).json()
    assert [t["id"] for t in rest["data"]] == [first]
    assert rest["has_more"] is False

    items = (await post(async_client, ck.list_items(first), headers)).json()["data"]
    assert [i["type"] for i in items] == ["user_message", "assistant_message"]
    assert items[0]["content"][0]["text"] == "add one"

    thread = (await post(async_client, ck.get_thread(first), headers)).json()
    assert thread["id"] == first and thread["title"]
    assert [i["type"] for i in thread["items"]["data"]] == ["user_message", "assistant_message"]


def _requests_naming(thread_id: str, item_id: str) -> dict[str, bytes]:
    def raw(request_type: str, **params) -> bytes:
        body = {"type": request_type, "params": {"thread_id": thread_id, **params}}
        return json.dumps(body).encode()

    return {
        "threads.get_by_id": ck.get_thread(thread_id),
        "threads.add_user_message": ck.add_message(thread_id, "delete #1"),
        "items.list": ck.list_items(thread_id),
        "threads.update": ck.update_thread(thread_id, "pwned"),
        "threads.delete": ck.delete_thread(thread_id),
        "threads.retry_after_item": raw("threads.retry_after_item", item_id=item_id),
        "items.feedback": raw("items.feedback", item_ids=[item_id], kind="positive"),
        "threads.add_client_tool_output": raw("threads.add_client_tool_output", result={}),
    }


@pytest.mark.parametrize("kind", list(_requests_naming("t", "i")))
async def test_another_users_thread_is_404_and_unchanged(
    async_client, user, other_user, bearer, kind
):
    thread_id, _ = await new_thread(async_client, bearer(user), "add secret plan")
    before = [i.data async for i in ThreadItem.objects.filter(thread_id=thread_id)]
    item_id = before[0]["id"]

    response = await post(
        async_client, _requests_naming(thread_id, item_id)[kind], bearer(other_user)
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
    assert "secret" not in response.content.decode()
    thread = await Thread.objects.aget(id=thread_id)
    assert thread.owner_id == user.pk and thread.title != "pwned"
    assert [i.data async for i in ThreadItem.objects.filter(thread_id=thread_id)] == before
    assert await Todo.objects.filter(owner=user).acount() == 1


async def test_another_users_threads_are_not_listed(async_client, user, other_user, bearer):
    await new_thread(async_client, bearer(user), "add mine")
    response = await post(async_client, ck.list_threads(), bearer(other_user))
    assert response.json()["data"] == []


async def test_a_client_secret_works_on_chatkit_until_it_expires(async_client, user, settings):
    secret, _ = mint_client_secret(user=user)
    events = await stream(
        async_client, ck.create_thread("add tea"), {"Authorization": f"Bearer {secret}"}
    )
    assert events[0].type == "thread.created"
    assert await Todo.objects.filter(owner=user, title="tea").aexists()

    settings.CHATKIT = {**settings.CHATKIT, "SESSION_TTL": -1}
    expired, _ = mint_client_secret(user=user)
    response = await post(async_client, ck.list_threads(), {"Authorization": f"Bearer {expired}"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "required"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "Bearer"),
        ({"Authorization": "Bearer not-a-jwt"}, "Malformed"),
        ({"Authorization": "Bearer cks_forged"}, "not valid"),
    ],
)
async def test_bad_credentials_are_401(async_client, db, headers, message):
    response = await post(async_client, ck.list_threads(), headers)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "auth_error"
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"type": "threads.explode", "params": {}}', "Not a valid ChatKit request"),
        (b'{"type": "threads.create", "params": {}}', "Not a valid ChatKit request"),
        (b'{"type": "items.list", "params": {"thread_id": 5}}', "Not a valid ChatKit request"),
        (b"[1, 2, 3]", "Not a valid ChatKit request"),
    ],
)
async def test_bad_bodies_are_400(async_client, user, bearer, body, message):
    response = await post(async_client, body, bearer(user))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "bad_request"
    assert message in response.json()["error"]["message"]


async def test_unknown_attachments_in_a_message_are_404_before_streaming(
    async_client, user, bearer
):
    body = json.loads(ck.create_thread("hi"))
    body["params"]["input"]["attachments"] = ["atc_someone_elses"]
    response = await post(async_client, json.dumps(body).encode(), bearer(user))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not await Thread.objects.aexists()


async def test_an_oversize_body_is_413(async_client, user, bearer, settings):
    settings.CHATKIT = {**settings.CHATKIT, "MAX_BODY_BYTES": 1000}
    response = await post(async_client, ck.create_thread("x" * 2000), bearer(user))
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not await Thread.objects.aexists()


async def test_wrong_method_is_405(async_client, user, bearer):
    response = await async_client.get("/chatkit", headers=bearer(user))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_turns_over_the_rate_limit_are_429(async_client, user, other_user, bearer, settings):
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "2/minute"}
    headers = bearer(user)
    thread_id, _ = await new_thread(async_client, headers, "hi")
    await stream(async_client, ck.add_message(thread_id, "hi again"), headers)

    response = await post(async_client, ck.add_message(thread_id, "one more"), headers)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json()["error"]["code"] == "rate_limit"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Reads are not turns, and other users have their own budget.
    assert (await post(async_client, ck.list_threads(), headers)).status_code == HTTPStatus.OK
    await new_thread(async_client, bearer(other_user), "hi")
    assert await ThreadItem.objects.filter(thread_id=thread_id).acount() == 4


async def test_a_foreign_thread_is_404_before_the_rate_limit_and_still_counts(
    async_client, user, other_user, bearer, settings
):
    # Checked together (chat/chatkit_request.py): as with DRF's throttles, every turn asked for
    # counts, and a thread that isn't yours is 404 whether or not you are over.
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "2/minute"}
    theirs, _ = await new_thread(async_client, bearer(other_user), "private")
    headers = bearer(user)

    for _ in range(3):
        response = await post(async_client, ck.add_message(theirs, "peek"), headers)
        assert response.status_code == HTTPStatus.NOT_FOUND
    response = await post(async_client, ck.create_thread("hi"), headers)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not await Thread.objects.filter(owner=user).aexists()
    assert await ThreadItem.objects.filter(thread_id=theirs).acount() == 2


async def test_a_failing_model_ends_the_stream_with_a_friendly_error(
    async_client, user, bearer, settings
):
    # A real-model configuration whose server refuses connections.
    settings.CHATKIT = {
        **settings.CHATKIT,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "MODEL_TIMEOUT_SECONDS": 5,
    }
    events = await stream(async_client, ck.create_thread("add buy milk"), bearer(user))

    error = events[-1] if events[-1].type == "error" else events[-2]
    assert error.type == "error"
    assert error.allow_retry is False  # the card holds the one retry control
    assert error.message and "127.0.0.1" not in error.message and "Traceback" not in error.message
    items = [i async for i in ThreadItem.objects.filter(thread_id=events[0].thread.id)]
    assert items[0].type == "user_message"  # the user's message is kept


async def test_nul_characters_are_dropped_not_fatal(async_client, user, bearer):
    # PostgreSQL cannot store NUL: the message must still land, without it.
    events = await stream(async_client, ck.create_thread("add milk\u0000 now"), bearer(user))
    assert "error" not in [e.type for e in events]
    items = [i async for i in ThreadItem.objects.filter(thread_id=events[0].thread.id)]
    assert items[0].data["content"][0]["text"] == "add milk now"
    assert [t.title async for t in Todo.objects.filter(owner=user)] == ["milk now"]


async def test_only_the_sdks_own_refusals_are_a_quiet_400(caplog) -> None:
    # The SDK's NotImplementedError (or ValueError) is its refusal of a request: a 400.
    with pytest.raises(NotImplementedError) as sdk:
        await ChatKitServer.sync_action(get_server(), thread_metadata(), None, None, None)
    refused = _refusal(sdk.value)
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert json.loads(refused.content)["error"]["code"] == "bad_request"

    # The same type raised by our own code is a bug: logged in full, a 500.
    with pytest.raises(ValueError) as ours:
        thread_purge(older_than_days=-1, dry_run=True)
    with caplog.at_level(logging.ERROR, logger="chat.views"):
        failed = _refusal(ours.value)
    assert failed.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert json.loads(failed.content)["error"]["code"] == "internal_error"
    assert "older_than_days must not be negative" in caplog.text
