"""`inference_options` through `/chatkit`: a model the client picks from CHATKIT_MODELS
and a composer tool it forces (`add_todo`, `search_todos`), for the offline model and
a real one (the fake OpenAI endpoint records what the model was asked)."""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus

import pytest

from chat.models import Thread
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, as_configured_model
from chat.tests.test_views import new_thread, post, stream
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_openai(settings) -> Iterator[FakeOpenAI]:
    with as_configured_model(settings, FakeOpenAI(todo_title="call mom")) as fake:
        settings.CHATKIT = {**settings.CHATKIT, "MODELS": ["gpt-test-mini", "gpt-test-large"]}
        yield fake


async def test_add_todo_forced_makes_the_whole_message_a_todo_offline(async_client, user, bearer):
    body = ck.with_inference(ck.create_thread("call mom"), tool="add_todo")
    events = await stream(async_client, body, bearer(user))

    assert [t async for t in Todo.objects.filter(owner=user).values_list("title", flat=True)] == [
        "call mom"
    ]
    assert "call mom" in ck.assistant_text(events)
    # Without the tool, the same words are not a command.
    await stream(async_client, ck.create_thread("call dad"), bearer(user))
    assert not await Todo.objects.filter(title="call dad").aexists()


async def test_search_todos_forced_makes_the_message_a_search_offline(
    async_client, user, other_user, bearer
):
    await Todo.objects.acreate(owner=user, title="buy oat milk")
    await Todo.objects.acreate(owner=other_user, title="buy soy milk")
    thread_id, _ = await new_thread(async_client, bearer(user), "hello")

    body = ck.with_inference(ck.add_message(thread_id, "milk"), tool="search_todos")
    text = ck.assistant_text(await stream(async_client, body, bearer(user)))

    assert 'matching "milk"' in text and "buy oat milk" in text
    assert "soy" not in text
    assert await Todo.objects.acount() == 2  # a search adds nothing


@pytest.mark.parametrize(
    "options",
    [{"tool": "delete_todo"}, {"tool": "show_todos"}, {"model": "gpt-unknown"}],
)
async def test_what_the_server_does_not_offer_is_400_before_any_stream(
    async_client, user, bearer, settings, options
):
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "1/minute"}
    for body in (ck.create_thread("call mom"), ck.create_thread("call dad")):
        response = await post(async_client, ck.with_inference(body, **options), bearer(user))
        assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
        assert response.json()["error"]["code"] == "bad_request"
    assert not await Thread.objects.aexists()
    assert not await Todo.objects.aexists()
    await new_thread(async_client, bearer(user), "list")  # the refusals were not turns


async def test_the_default_model_may_be_named(async_client, user, bearer, settings):
    model = settings.CHATKIT["MODEL"]
    body = ck.with_inference(ck.create_thread("add tea"), model=model)
    await stream(async_client, body, bearer(user))
    assert await Todo.objects.filter(title="tea").aexists()


async def test_a_picked_model_answers_that_turn(async_client, user, bearer, fake_openai):
    body = ck.with_inference(ck.create_thread("I need to call mom"), model="gpt-test-large")
    await stream(async_client, body, bearer(user))

    turn = [r.body for r in fake_openai.requests if r.body.get("tools")]
    assert [request["model"] for request in turn] == ["gpt-test-large", "gpt-test-large"]
    # The next message without a pick goes to the default model.
    fake_openai.requests.clear()
    thread = await Thread.objects.aget(owner=user)
    await stream(async_client, ck.add_message(thread.id, "and again"), bearer(user))
    turn = [r.body for r in fake_openai.requests if r.body.get("tools")]
    assert turn and {request["model"] for request in turn} == {"gpt-test-mini"}


async def test_a_forced_tool_is_the_real_models_tool_choice_once(
    async_client, user, bearer, fake_openai
):
    body = ck.with_inference(ck.create_thread("call mom"), tool="add_todo")
    await stream(async_client, body, bearer(user))

    first, second = [r.body for r in fake_openai.requests if r.body.get("tools")]
    assert first["tool_choice"] == {"type": "function", "name": "add_todo"}
    assert second.get("tool_choice") in (None, "auto")  # the answer after it is free
    assert await Todo.objects.filter(owner=user, title="call mom").aexists()
