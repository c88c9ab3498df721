"""One turn at a time per thread: a second turn waits for the first or ends with a
friendly error, never interleaving; a resent keyed message is not a second turn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import pytest

from chat.context import RequestContext
from chat.models import ThreadItem
from chat.server import CHATKIT_REQUEST
from chat.store import wait_for_pending_writes
from chat.tests import chatkit_client as ck
from chat.tests.test_server import (
    make_server,
    message,
    stored_items,
    text_stream,
    turn,
)
from chat.tests.test_views import post, stream
from chat.turns import MSG_THREAD_BUSY, TurnLock
from config.tests.servers import ServerProcess, post_chatkit, sse_events, user_input
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


async def started_turn(
    server, body: bytes, user, first_chunk: asyncio.Event, until: bytes = b""
) -> asyncio.Task:
    """A turn running in the background; `first_chunk` is set once it streams (a chunk
    holding `until`, when given)."""
    result = await server.process(body, RequestContext(user=user))

    async def run() -> list[Any]:
        chunks = []
        async for chunk in result:
            chunks.append(chunk)
            if until in chunk:
                first_chunk.set()
        return ck.parse_sse(b"".join(chunks))

    return asyncio.create_task(run())


@contextlib.contextmanager
def lock_waits(thread_id: str) -> Iterator[asyncio.Event]:
    """An event set when a turn starts waiting for `thread_id`'s lock (chat.turns logs it)."""
    waiting = asyncio.Event()
    key = TurnLock(thread_id).key

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if key in record.getMessage():
                waiting.set()

    turns_logger, handler = logging.getLogger("chat.turns"), Seen(logging.DEBUG)
    level = turns_logger.level
    turns_logger.addHandler(handler)
    turns_logger.setLevel(logging.DEBUG)
    try:
        yield waiting
    finally:
        turns_logger.removeHandler(handler)
        turns_logger.setLevel(level)


def texts(items: list[Any]) -> list[tuple[str, str]]:
    return [
        (item.type, "".join(part.text for part in item.content))
        for item in items
        if item.type in ("user_message", "assistant_message")
    ]


async def test_a_second_turn_that_cannot_wait_ends_with_a_friendly_error(user, settings):
    settings.CHATKIT = {**settings.CHATKIT, "TURN_WAIT_SECONDS": 0.2}
    release = asyncio.Event()
    server, _ = make_server([message("Hi.")], text_stream("Thinking ", "hard", hang=release))
    thread_id = (await turn(server, ck.create_thread("hello"), user))[0].thread.id
    streaming = asyncio.Event()
    first = await started_turn(server, ck.add_message(thread_id, "first"), user, streaming)
    await asyncio.wait_for(streaming.wait(), timeout=10)

    second = await turn(server, ck.add_message(thread_id, "second"), user)

    assert [(e.type, e.message, e.allow_retry) for e in second] == [
        ("error", MSG_THREAD_BUSY, True)
    ]
    release.set()
    await asyncio.wait_for(first, timeout=10)
    items = await stored_items(server, thread_id, user)
    assert "second" not in [text for _, text in texts(items)]


async def first_turn_streaming(user, settings, second_answer: str) -> tuple[Any, ...]:
    """A thread whose second turn ("first") has streamed its text and is held until
    `release` is set; the model then answers the next turn with `second_answer`."""
    settings.CHATKIT = {**settings.CHATKIT, "TURN_WAIT_SECONDS": 30}
    release = asyncio.Event()
    server, model = make_server(
        [message("Hi.")], text_stream("First ", "answer", hang=release), [message(second_answer)]
    )
    thread_id = (await turn(server, ck.create_thread("hello"), user))[0].thread.id
    streaming = asyncio.Event()
    body = ck.add_message(thread_id, "first")
    first = await started_turn(server, body, user, streaming, until=b'"answer"')
    await asyncio.wait_for(streaming.wait(), timeout=10)
    return server, model, thread_id, first, release


async def test_a_turn_that_waited_sends_the_earlier_turns_answer_to_the_model(user, settings):
    server, model, thread_id, first, release = await first_turn_streaming(user, settings, "2nd")

    # The second request as the view serves it: its thread checked before the stream,
    # while the first turn still holds the thread.
    context = RequestContext(user=user)
    request = CHATKIT_REQUEST.validate_json(ck.add_message(thread_id, "second"))
    await server.check_thread(request, context)
    result = await server.process_request(request, context)
    second = asyncio.create_task(ck.read_stream(result))
    release.set()
    await asyncio.wait_for(first, timeout=10)
    await asyncio.wait_for(second, timeout=10)

    sent = json.dumps(model.calls[-1].input)
    assert "First answer" in sent and "second" in sent


async def test_a_second_turn_waits_and_then_follows_the_first(user, settings):
    server, _, thread_id, first, release = await first_turn_streaming(
        user, settings, "Second answer"
    )
    with lock_waits(thread_id) as waiting:
        second = asyncio.create_task(turn(server, ck.add_message(thread_id, "second"), user))
        # The second turn reached the thread's lock and waits there.
        await asyncio.wait_for(waiting.wait(), timeout=10)
    assert not second.done()
    assert await ThreadItem.objects.filter(thread_id=thread_id).acount() == 3  # no "second" yet

    release.set()
    await asyncio.wait_for(first, timeout=10)
    second_events = await asyncio.wait_for(second, timeout=10)

    assert ck.assistant_text(second_events) == "Second answer"
    items = texts(await stored_items(server, thread_id, user))
    # The first turn's stream is cut off after its text (kept, with an error card).
    assert [text for _, text in items] == [
        "hello",
        "Hi.",
        "first",
        "First answer",
        "second",
        "Second answer",
    ]


async def test_the_lock_is_released_when_a_turn_fails_or_the_client_goes(user):
    server, _ = make_server(ValueError("boom"), [message("Fine now.")])
    thread_id = (await turn(server, ck.create_thread("hello"), user))[0].thread.id

    events = await turn(server, ck.add_message(thread_id, "again"), user)

    assert ck.assistant_text(events) == "Fine now."
    lock = TurnLock(thread_id)
    assert await lock.acquire(0)
    await lock.release()


async def test_a_resent_keyed_message_replays_the_stored_turn(async_client, user, bearer):
    headers = bearer(user)
    thread_id = (await stream(async_client, ck.create_thread("hello"), headers))[0].thread.id
    keyed = {**headers, "Idempotency-Key": "send-1"}

    first = await stream(async_client, ck.add_message(thread_id, "add feed cat"), keyed)
    resent = await stream(async_client, ck.add_message(thread_id, "add feed cat"), keyed)

    assert await Todo.objects.filter(owner=user).acount() == 1
    done = [e.item.id for e in first if e.type == "thread.item.done"]
    assert [e.item.id for e in resent if e.type == "thread.item.done"] == done
    assert ck.assistant_text(resent) == ck.assistant_text(first)
    assert await ThreadItem.objects.filter(thread_id=thread_id, type="user_message").acount() == 2

    # Another key is a new message (the same text again would be a duplicate question).
    other = {**headers, "Idempotency-Key": "send-2"}
    await stream(async_client, ck.add_message(thread_id, "add feed dog"), other)
    assert await Todo.objects.filter(owner=user).acount() == 2


async def test_a_resent_keyed_new_thread_is_the_same_thread(async_client, user, other_user, bearer):
    keyed = {**bearer(user), "Idempotency-Key": "new-chat-1"}

    first = await stream(async_client, ck.create_thread("add feed cat"), keyed)
    resent = await stream(async_client, ck.create_thread("add feed cat"), keyed)

    assert resent[0].type == "thread.created"
    assert resent[0].thread.id == first[0].thread.id
    assert ck.assistant_text(resent) == ck.assistant_text(first)
    assert await Todo.objects.filter(owner=user).acount() == 1
    # The same key from another user is their own new thread.
    theirs = await stream(
        async_client,
        ck.create_thread("hello"),
        {**bearer(other_user), "Idempotency-Key": "new-chat-1"},
    )
    assert theirs[0].thread.id != first[0].thread.id


async def test_a_key_in_the_request_metadata_works_too(async_client, user, bearer):
    headers = bearer(user)
    thread_id = (await stream(async_client, ck.create_thread("hello"), headers))[0].thread.id
    body = ck.with_metadata(ck.add_message(thread_id, "add tea"), idempotency_key="k1")

    await stream(async_client, body, headers)
    response = await post(async_client, body, headers)

    assert response.status_code == HTTPStatus.OK
    assert await Todo.objects.filter(owner=user).acount() == 1


# --- two real workers sharing the database and Redis -----------------------------------


@pytest.mark.slow
def test_two_turns_on_two_workers_never_interleave(run_server, user, token_for):
    prefix = f"test-turns-{uuid.uuid4().hex[:12]}"
    env = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": prefix,
        "CHANNELS_PREFIX": prefix,
        # Slow answers (about two seconds each), so the two turns overlap.
        "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "150",
    }
    workers = run_server(env=env, server="daphne"), run_server(env=env, server="uvicorn")
    token = token_for(user)
    created = post_chatkit(
        workers[0], token, {"type": "threads.create", "params": {"input": user_input("add tea")}}
    )
    thread_id = sse_events(created.content)[0]["thread"]["id"]

    def send(worker: ServerProcess, text: str) -> list[dict[str, Any]]:
        body = {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input(text)},
        }
        response = post_chatkit(worker, token, body)
        assert response.status_code == HTTPStatus.OK, response.text
        return sse_events(response.content)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(send, workers, ["hello", "add coffee"]))

    listed = post_chatkit(
        workers[1],
        token,
        {"type": "items.list", "params": {"thread_id": thread_id, "order": "asc", "limit": 50}},
    ).json()["data"]
    said = [
        (item["type"], "".join(part["text"] for part in item["content"]))
        for item in listed
        if item["type"] in ("user_message", "assistant_message")
    ]
    # Strictly question, answer, question, answer: each answer follows its own message.
    assert [kind for kind, _ in said] == ["user_message", "assistant_message"] * (len(said) // 2)
    for (_, asked), (_, answered) in zip(said[::2], said[1::2], strict=True):
        if asked == "hello":
            assert answered.startswith("I can manage your todos")
        else:
            assert asked.removeprefix("add ") in answered
    errors = [e for events in results for e in events if e["type"] == "error"]
    # The second turn waited (both answered) or was refused in a friendly way.
    assert all(e["message"] == MSG_THREAD_BUSY for e in errors)
    assert len(said) == 6 - 2 * len(errors)


async def test_a_client_that_goes_away_frees_the_thread(user):
    server, _ = make_server([message("Hi.")], text_stream("Half ", "way", hang=asyncio.Event()))
    thread_id = (await turn(server, ck.create_thread("hello"), user))[0].thread.id
    streaming = asyncio.Event()
    running = await started_turn(server, ck.add_message(thread_id, "tell me"), user, streaming)
    await asyncio.wait_for(streaming.wait(), timeout=10)

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await wait_for_pending_writes()

    lock = TurnLock(thread_id)
    assert await lock.acquire(0)
    await lock.release()
