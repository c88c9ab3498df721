"""Retry never doubles: `threads.retry_after_item` reruns a turn, and its todo
changes (add, complete, delete, update) are not applied a second time."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest

from chat.context import RequestContext
from chat.ledger import normalise
from chat.models import ToolEffect
from chat.tests import chatkit_client as ck
from chat.tests.test_server import (
    call,
    last_tool_output,
    make_server,
    message,
    turn,
)
from chat.tests.test_views import post, stream
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


def asked(events: list[Any]) -> str:
    return next(
        e.item.id for e in events if e.type == "thread.item.done" and e.item.type == "user_message"
    )


def state(todos: list[Todo]) -> list[tuple[str, bool]]:
    return sorted((todo.title, todo.completed) for todo in todos)


async def todos_of(user) -> list[tuple[str, bool]]:
    return state([todo async for todo in Todo.objects.filter(owner=user)])


# --- the offline model, through /chatkit ----------------------------------------------


@pytest.mark.parametrize(
    ("setup", "command", "answer"),
    [
        ([], "add feed cat", 'Added "feed cat"'),
        (["add feed cat"], "complete feed cat", 'Marked "feed cat" as done.'),
        (["add feed cat", "add walk dog"], "delete feed cat", 'Deleted "feed cat".'),
    ],
)
async def test_retrying_a_change_leaves_the_todos_as_one_run_did(
    async_client, user, bearer, setup, command, answer
):
    headers = bearer(user)
    thread_id = (await stream(async_client, ck.create_thread("hello"), headers))[0].thread.id
    for text in setup:
        await stream(async_client, ck.add_message(thread_id, text), headers)
    events = await stream(async_client, ck.add_message(thread_id, command), headers)
    after_one_run = await todos_of(user)

    for _ in range(2):
        rerun = await stream(async_client, ck.retry_after(thread_id, asked(events)), headers)
        assert "error" not in [e.type for e in rerun]
        assert ck.assistant_text(rerun).startswith(answer)

    assert await todos_of(user) == after_one_run


async def test_retrying_an_add_with_the_real_model_path(async_client, user, bearer, cat_openai):
    headers = bearer(user)
    events = await stream(async_client, ck.create_thread("add feed cat"), headers)

    rerun = await stream(async_client, ck.retry_after(events[0].thread.id, asked(events)), headers)

    assert "error" not in [e.type for e in rerun]
    assert await todos_of(user) == [("feed cat", False)]
    rerun_input = cat_openai.agent_requests()[2].body["input"]
    assert "already made" in json.dumps(rerun_input)
    assert json.loads(cat_openai.agent_requests()[3].body["input"][-1]["output"])["already_applied"]


# --- a scripted model: what a real model may do on a rerun ----------------------------


async def test_an_update_is_not_redone_even_when_the_model_names_the_todo_differently(user):
    todo = await Todo.objects.acreate(owner=user, title="feed cat")
    server, model = make_server(
        [call("update_todo", ref="feed cat", title="feed the cat", priority="high")],
        [message("Renamed.")],
        # Rerun: by the old title (which no longer matches any todo), then by #id.
        [call("update_todo", ref="Feed Cat", title="feed the cat", priority="high")],
        [call("update_todo", ref=f"#{todo.id}", title="feed the cat", priority="high")],
        [message("Renamed.")],
    )
    events = await turn(server, ck.create_thread("rename feed cat"), user)

    await turn(server, ck.retry_after(events[0].thread.id, asked(events)), user)

    first, again = last_tool_output(model.calls[1]), last_tool_output(model.calls[3])
    assert again["already_applied"] is True
    assert again["todo"] == first["todo"]
    # The second call of the rerun is a new change (the first was used up): applied, a no-op.
    assert "already_applied" not in last_tool_output(model.calls[4])
    await todo.arefresh_from_db()
    assert (todo.title, todo.priority) == ("feed the cat", "high")


async def test_equal_adds_in_one_message_are_each_recorded_and_a_rerun_applies_none(user):
    """Each recorded add answers one equal call of a rerun, so two "add milk" in one
    message stay two, not one and not four. The first milk is done before the second
    add (an open one would make the second a question: the next test)."""
    server, model = make_server(
        [call("add_todo", title="milk")],
        [call("complete_todo", ref="milk")],
        [call("add_todo", title="milk")],
        [message("Added, done, added again.")],
        # The rerun: the same three calls, then a fourth add the first run never made.
        [call("add_todo", title="milk")],
        [call("complete_todo", ref="milk")],
        [call("add_todo", title="milk")],
        [call("add_todo", title="milk")],
    )
    events = await turn(server, ck.create_thread("add milk, finish it, add milk"), user)
    assert await todos_of(user) == [("milk", False), ("milk", True)]

    rerun = await turn(server, ck.retry_after(events[0].thread.id, asked(events)), user)

    outputs = [last_tool_output(model.calls[n]) for n in (5, 6, 7)]
    assert [o.get("already_applied", False) for o in outputs] == [True, True, True]
    # Both recorded adds were used up: the fourth is a new add of an open title, which
    # asks first like any other (SPEC), and nothing was added twice.
    assert [e.item.type for e in rerun if e.type == "thread.item.done"][-1] == "structured_input"
    assert await todos_of(user) == [("milk", False), ("milk", True)]
    note = next(i for i in model.calls[4].input if i.get("role") == "developer")
    assert note["content"].count("add_todo") == 2


async def test_the_same_add_twice_in_one_message_asks_before_the_second_and_a_rerun_too(user):
    """SPEC: adding a title equal to an open todo asks first, also within one message;
    a rerun finds the first add applied and asks again, adding nothing."""
    server, model = make_server(
        [call("add_todo", title="milk")],
        [call("add_todo", title="Milk")],
        [call("add_todo", title="milk")],
        [call("add_todo", title="Milk")],
    )
    events = await turn(server, ck.create_thread("add milk twice"), user)
    done = [e.item for e in events if e.type == "thread.item.done"]
    assert done[-1].type == "structured_input"
    assert await todos_of(user) == [("milk", False)]
    assert len(model.calls) == 2  # the run stopped at the question

    rerun = await turn(server, ck.retry_after(events[0].thread.id, asked(events)), user)

    assert last_tool_output(model.calls[3])["already_applied"] is True
    assert [e.item.type for e in rerun if e.type == "thread.item.done"][-1] == "structured_input"
    assert await todos_of(user) == [("milk", False)]


async def test_a_failed_change_is_not_recorded_and_runs_again(user):
    server, model = make_server(
        [call("complete_todo", ref="nothing")],
        [message("No such todo.")],
        [call("complete_todo", ref="nothing")],
        [message("Still none.")],
    )
    events = await turn(server, ck.create_thread("complete nothing"), user)
    await turn(server, ck.retry_after(events[0].thread.id, asked(events)), user)

    assert not await ToolEffect.objects.aexists()
    assert "error" in last_tool_output(model.calls[3])


async def test_a_new_message_never_reads_the_ledger(user):
    server, model = make_server([call("add_todo", title="tea")], [message("Added.")])
    await turn(server, ck.create_thread("add tea"), user)
    context = RequestContext(user=user)
    assert context.rerun is False
    assert [r.tool async for r in ToolEffect.objects.all()] == ["add_todo"]
    assert "developer" not in [i.get("role") for i in model.calls[0].input]


def test_references_compare_loosely():
    assert normalise('  "Feed   Cat" ') == normalise("feed cat") == "feed cat"


async def test_retrying_a_missing_item_is_404_and_a_non_user_item_400(async_client, user, bearer):
    """Refused before any stream: the SDK would answer an empty stream for the first and
    a generic in-stream failure for the second."""
    headers = bearer(user)
    events = await stream(async_client, ck.create_thread("add feed cat"), headers)
    thread_id = events[0].thread.id
    answer_id = next(
        e.item.id
        for e in events
        if e.type == "thread.item.done" and e.item.type == "assistant_message"
    )

    missing = await post(async_client, ck.retry_after(thread_id, "msg_nope"), headers)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing.json()["error"]["code"] == "not_found"
    not_a_question = await post(async_client, ck.retry_after(thread_id, answer_id), headers)
    assert not_a_question.status_code == HTTPStatus.BAD_REQUEST
    assert not_a_question.json()["error"]["code"] == "bad_request"
    assert await todos_of(user) == [("feed cat", False)]
