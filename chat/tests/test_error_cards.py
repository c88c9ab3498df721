"""A failed turn leaves an error card in the thread (and still ends with an `error`
event); its "Try again" reruns the turn once, without redoing its todo changes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from chat.actions import MSG_NOT_RETRYABLE
from chat.answer import MSG_FAILED
from chat.context import RequestContext
from chat.provider_errors import MSG_BUSY, MSG_TIMEOUT
from chat.tests import chatkit_client as ck
from chat.tests.test_server import (
    call,
    last_tool_output,
    make_server,
    message,
    stored_items,
    turn,
)
from chat.tests.test_views import post, stream
from chat.widgets import CHAT_RETRY, retry_target
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


def card_of(events: list[Any]) -> Any:
    item = ck.widget_item(events)
    assert retry_target(item.widget) is not None
    return item


def user_message_id(events: list[Any]) -> str:
    return next(
        e.item.id for e in events if e.type == "thread.item.done" and e.item.type == "user_message"
    )


async def test_a_failed_turn_keeps_a_card_and_try_again_reruns_it_once(user):
    server, model = make_server(
        [call("add_todo", title="feed cat")],
        RuntimeError("boom"),
        # The rerun: the model asks for the same change again, then answers.
        [call("add_todo", title="Feed cat")],
        [message("Added feed cat.")],
    )
    events = await turn(server, ck.create_thread("add feed cat"), user)
    thread_id, asked = events[0].thread.id, user_message_id(events)

    assert [e.type for e in events][-2:] == ["error", "thread.updated"]
    assert events[-2].message == MSG_FAILED
    card = card_of(events)
    assert retry_target(card.widget) == asked
    assert card.copy_text == MSG_FAILED
    assert "try again" not in card.copy_text.lower()  # the client adds its own wording
    listed = await server.process(ck.list_items(thread_id), RequestContext(user=user))
    assert card.id in listed.json.decode()

    body = ck.custom_action(thread_id, card.id, CHAT_RETRY, {"item_id": asked})
    rerun = await turn(server, body, user)

    assert "error" not in [e.type for e in rerun]
    assert ck.assistant_text(rerun) == "Added feed cat."
    removed = [e.item_id for e in rerun if e.type == "thread.item.removed"]
    assert card.id in removed
    assert [t.title async for t in Todo.objects.filter(owner=user)] == ["feed cat"]
    assert last_tool_output(model.calls[3])["already_applied"] is True
    notes = [i for i in model.calls[2].input if i.get("role") == "developer"]
    assert any("already made" in n["content"] and "feed cat" in n["content"] for n in notes)
    items = [i.type for i in await stored_items(server, thread_id, user)]
    assert items.count("widget") == 0
    assert items[0] == "user_message" and items[-1] == "assistant_message"

    # The card is gone: a second click changes nothing.
    again = await server.process(body, RequestContext(user=user))
    with pytest.raises(Exception):  # noqa: B017 - the SDK's NotFoundError, or ours
        [chunk async for chunk in again]
    assert await Todo.objects.filter(owner=user).acount() == 1


async def test_try_again_only_reruns_the_latest_message(user):
    server, _ = make_server(ValueError("first"), [message("Hi.")])
    events = await turn(server, ck.create_thread("hello"), user)
    thread_id, card = events[0].thread.id, card_of(events)
    await turn(server, ck.add_message(thread_id, "next"), user)

    body = ck.custom_action(thread_id, card.id, CHAT_RETRY, {"item_id": retry_target(card.widget)})
    rerun = await turn(server, body, user)

    error = next(e for e in rerun if e.type == "error")
    assert error.message == MSG_NOT_RETRYABLE
    replaced = next(e for e in rerun if e.type == "thread.item.replaced")
    assert retry_target(replaced.item.widget) is None  # spent: shown disabled


async def test_a_retry_payload_that_names_another_message_is_refused(user):
    server, _ = make_server(ValueError("first"))
    events = await turn(server, ck.create_thread("hello"), user)
    body = ck.custom_action(
        events[0].thread.id, card_of(events).id, CHAT_RETRY, {"item_id": "msg_x"}
    )

    rerun = await turn(server, body, user)

    assert next(e for e in rerun if e.type == "error").message == MSG_NOT_RETRYABLE
    assert "thread.item.replaced" not in [e.type for e in rerun]


# --- through /chatkit, against the fake OpenAI endpoint -------------------------------


@pytest.mark.parametrize(
    ("mode", "expected", "todos_after_failure"),
    [
        ("rate_limit", MSG_BUSY, 0),
        ("fail_after_tool", MSG_BUSY, 1),
        ("hang", MSG_TIMEOUT, 0),
    ],
)
async def test_provider_failures_leave_a_card_whose_try_again_works(
    async_client, user, bearer, cat_openai, settings, mode, expected, todos_after_failure
):
    if mode == "hang":
        settings.CHATKIT = {**settings.CHATKIT, "MODEL_TIMEOUT_SECONDS": 0.5}
    cat_openai.mode = mode
    headers = bearer(user)

    events = await stream(async_client, ck.create_thread("add feed cat"), headers)

    error = next(e for e in events if e.type == "error")
    # The card holds the one retry control: the event offers none.
    assert (error.message, error.allow_retry) == (expected, False)
    card = card_of(events)
    assert await Todo.objects.filter(owner=user).acount() == todos_after_failure
    thread_id = events[0].thread.id
    items = (await post(async_client, ck.list_items(thread_id), headers)).json()["data"]
    assert [i["id"] for i in items if i["type"] == "widget"] == [card.id]

    cat_openai.mode = "script"
    settings.CHATKIT = {**settings.CHATKIT, "MODEL_TIMEOUT_SECONDS": 60}
    target = retry_target(card.widget)
    body = ck.custom_action(thread_id, card.id, CHAT_RETRY, {"item_id": target})
    rerun = await stream(async_client, body, headers)

    assert "error" not in [e.type for e in rerun]
    assert "client_effect" in [e.type for e in rerun] or todos_after_failure
    assert [t.title async for t in Todo.objects.filter(owner=user)] == ["feed cat"]
    items = (await post(async_client, ck.list_items(thread_id), headers)).json()["data"]
    assert [i["type"] for i in items] == ["user_message", "assistant_message"]
    again = await post(async_client, body, headers)
    assert again.status_code == HTTPStatus.NOT_FOUND  # the card is gone
