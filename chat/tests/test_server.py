"""TodoChatKitServer end to end: a scripted model drives the real agent, tools and
DjangoStore through `server.process`, as the /chatkit view does."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import pytest
from agents.items import TResponseStreamEvent
from agents.testing import ModelCall, ModelStep, ScriptedModel, assistant_message, function_call
from chatkit.types import HiddenContextItem, SDKHiddenContextItem
from openai.types.responses import (
    ResponseOutputMessage,
    ResponseOutputText,
)

from accounts.models import User
from chat import provider_errors
from chat.agent import MAX_TURNS
from chat.answer import MSG_FAILED, MSG_TOO_MANY_STEPS
from chat.context import RequestContext
from chat.models import Thread
from chat.responses_stream import stream_events
from chat.server import TodoChatKitServer
from chat.store import DjangoStore, wait_for_pending_writes
from chat.tests import chatkit_client as ck
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


_ids = itertools.count(1)


def message(text: str) -> Any:
    """A scripted assistant message with a fresh id (ChatKit keys items by it)."""
    return assistant_message(text, item_id=f"msg_scripted_{next(_ids)}")


def call(name: str, **arguments: Any) -> Any:
    return function_call(name, arguments, call_id=f"call_{next(_ids)}")


def make_server(*steps: Any) -> tuple[TodoChatKitServer, ScriptedModel]:
    model = ScriptedModel(steps)
    return TodoChatKitServer(DjangoStore(), model=model), model


async def turn(server: TodoChatKitServer, body: bytes, user: User) -> list[Any]:
    result = await server.process(body, RequestContext(user=user))
    return await ck.read_events(result)


async def stored_items(server: TodoChatKitServer, thread_id: str, user: User) -> list[Any]:
    page = await server.store.load_thread_items(thread_id, None, 100, "asc", RequestContext(user))
    return page.data


async def disconnect_after(result: Any, marker: bytes) -> list[bytes]:
    """Read a streaming result like a client that goes away once a chunk holding
    `marker` has come; the chunks it read, after the store's writes have settled."""
    seen: list[bytes] = []
    arrived = asyncio.Event()

    async def client() -> None:
        async for chunk in result:
            seen.append(chunk)
            if marker in chunk:
                arrived.set()

    task = asyncio.create_task(client())
    await asyncio.wait_for(arrived.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_pending_writes()
    return seen


def last_tool_output(call: ModelCall) -> dict[str, Any]:
    output = call.input[-1]
    assert output["type"] == "function_call_output"
    return json.loads(output["output"])


def collapse(types: list[str]) -> list[str]:
    return [kind for kind, _ in itertools.groupby(types)]


def text_stream(
    *chunks: str, then: BaseException | None = None, hang: asyncio.Event | None = None
) -> Any:
    """A stream factory: an assistant message that streams `chunks`, then fails or hangs."""

    async def events(model_call: ModelCall) -> AsyncIterator[TResponseStreamEvent]:
        text = "".join(chunks)
        message = ResponseOutputMessage(
            id=f"msg_partial_{next(_ids)}",
            type="message",
            role="assistant",
            status="completed",
            content=[
                ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[])
            ],
        )
        # The real event sequence, cut off after the last text chunk.
        for event in stream_events(
            message, response_id="resp_partial", chunks=chunks, model="scripted"
        ):
            if event.type == "response.output_text.done":
                break
            yield event
        if hang is not None:
            await hang.wait()
        if then is not None:
            raise then

    return ModelStep.stream(events)


async def test_event_stream_order_and_thread_title(user):
    server, _ = make_server(
        [call("add_todo", title="Buy milk")],
        [message("Added buy milk.")],
    )

    events = await turn(server, ck.create_thread("  please add   buy milk  "), user)

    assert collapse([event.type for event in events]) == [
        "thread.created",
        "thread.item.done",
        "stream_options",
        "progress_update",  # while add_todo runs
        "thread.item.added",
        "thread.item.updated",
        "thread.item.done",
        "client_effect",
        "thread.updated",
    ]
    assert events[1].item.type == "user_message"
    assistant_done = [e for e in events if e.type == "thread.item.done"][-1]
    assert assistant_done.item.type == "assistant_message"
    assert ck.assistant_text(events) == "Added buy milk."
    effect = next(e for e in events if e.type == "client_effect")
    assert (effect.name, effect.data) == ("todos.changed", {})
    assert events[-1].thread.title == "please add buy milk"
    thread = await Thread.objects.aget(pk=events[0].thread.id)
    assert thread.title == "please add buy milk"


async def test_long_first_message_gives_a_trimmed_title(user):
    server, _ = make_server([message("I can help with todos.")])
    text = "tell me " + "something rather long about my todo list " * 5

    events = await turn(server, ck.create_thread(text), user)

    title = events[-1].thread.title
    assert len(title) <= 60
    assert title.startswith("tell me something rather long")
    assert "client_effect" not in [event.type for event in events]


async def test_title_is_kept_on_later_turns(user):
    server, _ = make_server([message("Hi.")], [message("Hello again.")])
    thread_id = (await turn(server, ck.create_thread("first words"), user))[0].thread.id

    events = await turn(server, ck.add_message(thread_id, "second words"), user)

    assert "thread.updated" not in [event.type for event in events]
    assert (await Thread.objects.aget(pk=thread_id)).title == "first words"


async def test_tools_act_for_the_calling_user_only(user, other_user):
    theirs = await Todo.objects.acreate(owner=other_user, title="Buy milk")
    server, model = make_server(
        [call("add_todo", title="Buy milk", priority="high", due_date="2030-01-02")],
        [call("complete_todo", ref=f"#{theirs.id}")],
        [call("delete_todo", ref="Buy milk")],
        [message("Done.")],
    )

    await turn(server, ck.create_thread("shuffle my milk"), user)

    # Our "Buy milk" was created, then deleted by title; theirs was neither
    # completed by #id nor chosen by title.
    assert not await Todo.objects.filter(owner=user).aexists()
    await theirs.arefresh_from_db()
    assert (theirs.title, theirs.completed) == ("Buy milk", False)
    added = last_tool_output(model.calls[1])["todo"]
    assert (added["priority"], added["due_date"]) == ("high", "2030-01-02")
    assert added["id"] != theirs.id
    assert last_tool_output(model.calls[2]) == {"error": f"No todo #{theirs.id}."}
    assert last_tool_output(model.calls[3])["todo"]["id"] == added["id"]


async def test_a_tool_domain_error_becomes_a_friendly_answer(user):
    def relay_error(model_call: ModelCall) -> list[Any]:
        return [message(f"Sorry: {last_tool_output(model_call)['error']}")]

    server, _ = make_server(
        [call("complete_todo", ref="walk the dog")],
        ModelStep.respond(relay_error),
    )

    events = await turn(server, ck.create_thread("complete walk the dog"), user)

    types = [event.type for event in events]
    assert "error" not in types
    assert "client_effect" not in types
    assert ck.assistant_text(events) == 'Sorry: No todo matches "walk the dog".'


async def test_a_model_failure_mid_stream_is_a_friendly_error_and_keeps_the_messages(user, caplog):
    # The model fails once the client has seen its partial text (as over a network).
    seen_by_client = asyncio.Event()
    server, _ = make_server(
        text_stream("Working ", "on it", hang=seen_by_client, then=RuntimeError("db password=x"))
    )

    chunks = []
    with caplog.at_level(logging.ERROR, logger="chat.answer"):
        result = await server.process(ck.create_thread("add something"), RequestContext(user))
        async for chunk in result:
            chunks.append(chunk)
            if b"on it" in chunk:
                seen_by_client.set()
    events = ck.parse_sse(b"".join(chunks))

    assert [event.type for event in events][-4:] == [
        "thread.item.done",
        "thread.item.done",
        "error",
        "thread.updated",
    ]
    assert events[-3].item.type == "widget"  # the error card
    error = events[-2]
    assert error.message == MSG_FAILED
    assert error.allow_retry is False  # the card holds the one retry control
    assert "password" not in json.dumps([e.model_dump(mode="json") for e in events])
    # The real error is logged for operators.
    assert any(
        record.exc_info and isinstance(record.exc_info[1], RuntimeError)
        for record in caplog.records
    )
    items = await stored_items(server, events[0].thread.id, user)
    assert [item.type for item in items] == ["user_message", "assistant_message", "widget"]
    assert items[1].content[0].text == "Working on it"
    assert events[-1].type == "thread.updated"
    assert events[-1].thread.title == "something"  # the todo it was adding


def _request() -> httpx2.Request:
    return httpx2.Request("POST", "https://api.openai.test/v1/responses")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (openai.APITimeoutError(request=_request()), provider_errors.MSG_TIMEOUT),
        (
            openai.RateLimitError(
                "Rate limit reached", response=httpx2.Response(429, request=_request()), body=None
            ),
            provider_errors.MSG_BUSY,
        ),
        (openai.APIConnectionError(request=_request()), provider_errors.MSG_UNREACHABLE),
        (
            openai.AuthenticationError(
                "Incorrect API key sk-secret",
                response=httpx2.Response(401, request=_request()),
                body=None,
            ),
            provider_errors.MSG_NOT_CONFIGURED,
        ),
        (
            openai.InternalServerError(
                "boom", response=httpx2.Response(500, request=_request()), body=None
            ),
            provider_errors.MSG_PROVIDER_ERROR,
        ),
        (
            openai.BadRequestError(
                "context too long", response=httpx2.Response(400, request=_request()), body=None
            ),
            provider_errors.MSG_REFUSED,
        ),
        (ValueError("unexpected"), MSG_FAILED),
    ],
)
async def test_provider_errors_become_friendly_errors_retried_from_their_card(
    user, error, expected
):
    server, _ = make_server(error)

    events = await turn(server, ck.create_thread("hello"), user)

    errors = [event for event in events if event.type == "error"]
    assert [(e.code, e.message, e.allow_retry) for e in errors] == [("custom", expected, False)]
    assert "sk-secret" not in json.dumps([e.model_dump(mode="json") for e in events])
    items = await stored_items(server, events[0].thread.id, user)
    assert [item.type for item in items] == ["user_message", "widget"]
    assert items[1].copy_text == expected


async def test_too_many_tool_rounds_is_a_friendly_error(user):
    steps = [[call("list_todos", status="open")] for _ in range(MAX_TURNS + 1)]
    server, _ = make_server(*steps)

    events = await turn(server, ck.create_thread("loop"), user)

    error = next(event for event in events if event.type == "error")
    assert error.message == MSG_TOO_MANY_STEPS


async def test_a_hanging_model_is_cut_by_the_idle_timeout(user, settings):
    # Well above a first event's wait on a cold start (the process's first turn: about
    # 0.2-0.3 s here, so 0.2 cut the answer before "Let me" whenever the test ran alone).
    settings.CHATKIT = {**settings.CHATKIT, "MODEL_TIMEOUT_SECONDS": 2.0}
    server, _ = make_server(text_stream("Let me ", "think", hang=asyncio.Event()))

    started = time.monotonic()
    events = await turn(server, ck.create_thread("add something"), user)

    assert time.monotonic() - started < 10
    error = next(event for event in events if event.type == "error")
    assert (error.message, error.allow_retry) == (provider_errors.MSG_TIMEOUT, False)
    items = await stored_items(server, events[0].thread.id, user)
    assert [item.type for item in items] == ["user_message", "assistant_message", "widget"]
    assert items[1].content[0].text == "Let me think"


async def test_a_client_disconnect_stops_the_run_and_saves_the_partial_answer(user):
    hang = asyncio.Event()
    server, _ = make_server(text_stream("Half an ", "answer", hang=hang))
    result = await server.process(ck.create_thread("tell me"), RequestContext(user=user))
    seen = await disconnect_after(result, b"answer")

    thread_id = ck.parse_sse(seen[0])[0].thread.id
    items = await stored_items(server, thread_id, user)
    assert [item.type for item in items] == [
        "user_message",
        "assistant_message",
        "sdk_hidden_context",
    ]
    assert items[1].content[0].text == "Half an answer"
    assert isinstance(items[2], SDKHiddenContextItem)


async def test_hidden_context_is_stored_not_sent_and_seen_by_the_model_next_turn(user):
    server, model = make_server(
        [call("add_todo", title="Water plants")],
        [message("Added.")],
        [message("You added Water plants.")],
    )
    first = await turn(server, ck.create_thread("add water plants"), user)
    thread_id = first[0].thread.id
    todo = await Todo.objects.aget(owner=user)

    # Not streamed to the client, not listed back to it, but stored.
    assert all(
        getattr(e, "item", None) is None or e.item.type != "hidden_context_item" for e in first
    )
    listed = await server.process(ck.list_items(thread_id), RequestContext(user=user))
    assert "hidden_context" not in listed.json.decode()
    hidden = [i for i in await stored_items(server, thread_id, user) if i.type != "user_message"]
    assert isinstance(hidden[0], HiddenContextItem)
    assert hidden[0].content.startswith("Tool add_todo -> ")
    assert json.loads(hidden[0].content.removeprefix("Tool add_todo -> "))["id"] == todo.id

    await turn(server, ck.add_message(thread_id, "what did I add?"), user)

    next_input = model.calls[2].input
    notes = [item for item in next_input if item.get("role") == "developer"]
    assert len(notes) == 1
    assert f'"id":{todo.id}' in notes[0]["content"]
    assert "Tool add_todo -> " in notes[0]["content"]
    # History runs in order: user, (tool result note), assistant, then the new message.
    roles = [item.get("role") for item in next_input]
    assert roles == ["user", "developer", "assistant", "user"]


async def test_history_is_limited_to_recent_items(user, settings):
    settings.CHATKIT = {**settings.CHATKIT, "HISTORY_ITEMS": 3}
    server, model = make_server(*[[message(f"Answer {n}.")] for n in range(3)])
    thread_id = (await turn(server, ck.create_thread("message 0"), user))[0].thread.id
    await turn(server, ck.add_message(thread_id, "message 1"), user)

    await turn(server, ck.add_message(thread_id, "message 2"), user)

    texts = [json.dumps(item) for item in model.calls[2].input]
    assert len(texts) == 3
    assert "message 1" in texts[0] and "Answer 1." in texts[1] and "message 2" in texts[2]
