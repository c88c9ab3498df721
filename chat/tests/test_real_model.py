"""The real-model path: OpenAI's client and the Agents SDK's Responses model talk
over HTTP to a local fake of `POST /v1/responses`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import User
from chat.context import RequestContext
from chat.provider_errors import MSG_BUSY, MSG_TIMEOUT
from chat.server import get_server
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, as_configured_model
from chat.tests.test_agent import TODO_TOOLS
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_openai(settings) -> Iterator[FakeOpenAI]:
    with as_configured_model(settings, FakeOpenAI()) as fake:
        yield fake


async def turn(user: User, text: str) -> list[Any]:
    result = await get_server().process(ck.create_thread(text), RequestContext(user=user))
    return await ck.read_events(result)


async def test_a_full_turn_against_the_responses_api(fake_openai, user, other_user):
    events = await turn(user, "I need oat milk")

    todo = await Todo.objects.aget(owner=user)
    assert (todo.title, todo.priority) == ("Buy oat milk", "low")
    assert not await Todo.objects.filter(owner=other_user).aexists()
    assert ck.assistant_text(events) == "Added oat milk to your list."
    deltas = [
        event.update.delta
        for event in events
        if event.type == "thread.item.updated"
        and event.update.type == "assistant_message.content_part.text_delta"
    ]
    assert deltas == list(fake_openai.answer_chunks)
    assert "client_effect" in [event.type for event in events]
    assert events[-1].type == "thread.updated"

    first, second = (request.body for request in fake_openai.agent_requests())
    assert len(fake_openai.requests) == 3  # the agent's two calls, then the title model's
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-test"
    assert (first["model"], first["stream"]) == ("gpt-test-mini", True)
    assert "todo" in first["instructions"]
    assert {tool["name"] for tool in first["tools"]} == TODO_TOOLS
    assert first["input"][-1] == {"role": "user", "content": "I need oat milk"}  # plain form
    tool_output = second["input"][-1]
    assert tool_output["type"] == "function_call_output"
    assert json.loads(tool_output["output"])["todo"]["id"] == todo.id


async def test_a_rate_limited_provider_is_a_friendly_error(fake_openai, user):
    fake_openai.mode = "rate_limit"

    events = await turn(user, "add tea")

    error = next(event for event in events if event.type == "error")
    assert (error.message, error.allow_retry) == (MSG_BUSY, False)  # the card retries
    # max_retries=1: the first try and one retry.
    assert len(fake_openai.requests) == 2
    assert not await Todo.objects.aexists()


async def test_a_provider_that_never_answers_times_out(fake_openai, user, settings):
    settings.CHATKIT = {**settings.CHATKIT, "MODEL_TIMEOUT_SECONDS": 0.3}
    fake_openai.mode = "hang"

    events = await turn(user, "add tea")

    error = next(event for event in events if event.type == "error")
    assert (error.message, error.allow_retry) == (MSG_TIMEOUT, False)
