"""`progress_update` events while a tool runs, before its result, for the offline
model and for a real one (the fake OpenAI endpoint)."""

from __future__ import annotations

import pytest

from chat.tests import chatkit_client as ck
from chat.tests.test_views import stream
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


def progress_before_result(events, result_type: str) -> list[str]:
    """The progress texts, checked to come before the first item of `result_type`."""
    types = [e.type for e in events]
    first_progress = types.index("progress_update")
    result = next(
        i
        for i, e in enumerate(events)
        if e.type in ("thread.item.added", "thread.item.done") and e.item.type == result_type
    )
    assert first_progress < result
    return [e.text for e in events if e.type == "progress_update"]


async def test_adding_says_what_it_adds_before_the_answer(async_client, user, bearer):
    events = await stream(async_client, ck.create_thread("add buy milk"), bearer(user))

    assert progress_before_result(events, "assistant_message") == ["Adding “buy milk”…"]


async def test_listing_says_how_many_todos_it_looks_through_before_the_widget(
    async_client, user, bearer
):
    await Todo.objects.abulk_create([Todo(owner=user, title=f"t{n}") for n in range(3)])
    await Todo.objects.acreate(owner=user, title="done", completed=True)

    events = await stream(async_client, ck.create_thread("list"), bearer(user))

    assert progress_before_result(events, "widget") == ["Looking through 3 todos…"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("complete buy milk", "Completing “buy milk”…"),
        ("reopen buy milk", "Reopening “buy milk”…"),
        ("delete buy milk", "Deleting “buy milk”…"),
        ("search milk", "Searching your todos for “milk”…"),
    ],
)
async def test_every_tool_reports_progress(async_client, user, bearer, command, expected):
    await Todo.objects.acreate(owner=user, title="buy milk")

    events = await stream(async_client, ck.create_thread(command), bearer(user))

    assert progress_before_result(events, "assistant_message") == [expected]


async def test_a_real_model_turn_reports_progress_too(async_client, user, bearer, cat_openai):
    events = await stream(async_client, ck.create_thread("I need to feed the cat"), bearer(user))

    assert progress_before_result(events, "assistant_message") == ["Adding “feed cat”…"]
