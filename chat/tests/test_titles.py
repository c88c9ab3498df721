"""A thread's title after its first turn: offline, a phrase from the first message;
with a real model, the title model's call after the answer (the fake OpenAI endpoint
records it). Never lost when the first turn is stopped, never over a title the user
set, at most 60 characters, never "New chat" or a bare command word."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from chatkit.types import FileAttachment, InferenceOptions, UserMessageItem
from chatkit.types import UserMessageTextContent as Text
from django.utils import timezone

from attachments.tests import client as ac
from chat.context import RequestContext
from chat.models import Thread
from chat.store import wait_for_pending_writes
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, as_configured_model
from chat.tests.test_server import disconnect_after, make_server, text_stream
from chat.tests.test_views import stream
from chat.titles import FALLBACK, TITLE_MAX_CHARS, offline_title
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


def _message(*content, files: tuple[str, ...] = ()) -> UserMessageItem:
    parts = [Text(text=part) if isinstance(part, str) else part for part in content]
    attachments = [
        FileAttachment(id=f"atc_{n}", name=name, mime_type="text/plain")
        for n, name in enumerate(files)
    ]
    return UserMessageItem(
        id="msg_1", thread_id="thr_1", created_at=timezone.now(), content=parts,
        attachments=attachments, inference_options=InferenceOptions(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "files", "title"),
    [
        (["add buy milk"], (), "buy milk"),
        (["Add 'pay rent' due tomorrow"], (), "pay rent"),
        (["complete ", ck.tag("walk dog", {"todo_id": 3})], (), "Complete walk dog"),
        (["delete #4"], (), "Delete #4"),
        (["list"], (), "Open todos"),
        (["show my todos"], (), "Open todos"),
        (["list completed"], (), "Completed todos"),
        (["search milk"], (), "Search milk"),
        (["I need oat milk"], (), "I need oat milk"),
        ([""], ("notes.csv",), "notes.csv"),
        ([], ("a.txt", "b.txt", "c.txt"), "a.txt and 2 more files"),
        (["add these"], ("groceries.csv",), "Todos from groceries.csv"),
        (["add"], (), FALLBACK),
        (["New chat"], (), FALLBACK),
        (["  "], (), FALLBACK),
    ],
)
def test_the_offline_phrase(content, files, title):
    assert offline_title(_message(*content, files=files)) == title


def test_a_long_message_is_cut_at_a_word():
    title = offline_title(_message("please remember " + "to water the plants " * 10))
    assert len(title) <= TITLE_MAX_CHARS
    assert title.endswith("…") and title.startswith("please remember to water")


# --- end to end, offline ---------------------------------------------------------------


async def test_a_first_turn_titles_its_thread_with_the_todo_added(async_client, user, bearer):
    events = await stream(async_client, ck.create_thread("add buy milk"), bearer(user))

    assert events[-1].type == "thread.updated"
    assert events[-1].thread.title == "buy milk"
    thread = await Thread.objects.aget(owner=user)
    assert thread.title == "buy milk"
    # A later turn keeps it.
    await stream(async_client, ck.add_message(thread.id, "add tea"), bearer(user))
    assert (await Thread.objects.aget(pk=thread.id)).title == "buy milk"


async def test_tags_read_as_their_text(async_client, user, bearer):
    walk = await Todo.objects.acreate(owner=user, title="walk dog")
    body = ck.create_thread(["complete ", ck.tag("walk dog", {"todo_id": walk.pk})])

    events = await stream(async_client, body, bearer(user))

    assert events[-1].thread.title == "Complete walk dog"


async def test_an_attachment_only_message_is_titled_by_its_file(async_client, user, bearer):
    headers = bearer(user)
    notes = await ac.attach(async_client, headers, "groceries.txt", b"milk\neggs\n", "text/plain")

    events = await ac.turn(async_client, ac.create_thread_with("", [notes["id"]]), headers)

    assert events[-1].type == "thread.updated"
    assert events[-1].thread.title == "groceries.txt"


async def test_a_first_turn_stopped_after_its_first_token_keeps_its_title(user):
    hang = asyncio.Event()
    server, _ = make_server(text_stream("Half an ", "answer", hang=hang))
    result = await server.process(ck.create_thread("add pay rent"), RequestContext(user=user))
    seen = await disconnect_after(result, b"text_delta")

    thread_id = ck.parse_sse(seen[0])[0].thread.id
    assert (await Thread.objects.aget(pk=thread_id)).title == "pay rent"


async def test_a_title_the_user_set_during_the_first_turn_stays(user):
    answer_may_end = asyncio.Event()
    server, _ = make_server(text_stream("Thinking ", "it over", hang=answer_may_end))
    result = await server.process(ck.create_thread("add pay rent"), RequestContext(user=user))
    events = []

    async def client() -> None:
        async for chunk in result:
            events.extend(ck.parse_sse(chunk))
            if any(e.type == "thread.item.updated" for e in events) and not answer_may_end.is_set():
                thread_id = events[0].thread.id
                renamed = await server.process(
                    ck.update_thread(thread_id, "Rent, March"), RequestContext(user=user)
                )
                assert b"Rent, March" in renamed.json
                answer_may_end.set()

    await asyncio.wait_for(client(), timeout=10)
    await wait_for_pending_writes()

    thread = await Thread.objects.aget(pk=events[0].thread.id)
    assert thread.title == "Rent, March"
    assert not [e for e in events if e.type == "thread.updated" and e.thread.title == "pay rent"]


# --- end to end, a real model -----------------------------------------------------------


@pytest.fixture
def fake_openai(settings) -> Iterator[FakeOpenAI]:
    with as_configured_model(settings, FakeOpenAI()) as fake:
        settings.CHATKIT = {**settings.CHATKIT, "TITLE_MODEL": "gpt-title-test"}
        yield fake


async def test_the_title_model_titles_the_thread_after_the_answer(
    async_client, user, bearer, fake_openai
):
    events = await stream(async_client, ck.create_thread("I need oat milk"), bearer(user))

    titled = fake_openai.title_requests()
    assert [request.body["model"] for request in titled] == ["gpt-title-test"]
    assert "I need oat milk" in str(titled[0].body["input"])
    assert fake_openai.requests[-1] is titled[0]  # after the answer's model calls
    assert events[-1].type == "thread.updated"
    assert events[-1].thread.title == fake_openai.title_text
    assert (await Thread.objects.aget(owner=user)).title == fake_openai.title_text
    # Only the first turn is titled.
    await stream(async_client, ck.add_message(events[0].thread.id, "thanks"), bearer(user))
    assert len(fake_openai.title_requests()) == 1


async def test_a_failing_title_model_falls_back_to_the_phrase(
    async_client, user, bearer, fake_openai
):
    fake_openai.title_fails = True

    events = await stream(async_client, ck.create_thread("I need oat milk"), bearer(user))

    assert len(fake_openai.title_requests()) == 1
    assert events[-1].thread.title == "I need oat milk"
    assert not [e for e in events if e.type == "error"]


async def test_a_failed_first_turn_is_titled_without_the_model(
    async_client, user, bearer, fake_openai
):
    fake_openai.mode = "rate_limit"

    events = await stream(async_client, ck.create_thread("add tea"), bearer(user))

    assert not fake_openai.title_requests()
    assert events[-1].type == "thread.updated" and events[-1].thread.title == "tea"
