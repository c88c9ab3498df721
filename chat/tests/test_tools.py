"""The agent's todo tools, called by a scripted model through the real runtime."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from accounts.models import User
from chat.tests import chatkit_client as ck
from chat.tests.test_server import (
    call,
    last_tool_output,
    make_server,
    message,
    stored_items,
    turn,
)
from chat.tools import MAX_LISTED
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


async def use_tool(user: User, tool: str, **arguments: Any) -> tuple[dict[str, Any], list[Any]]:
    """One turn in which the model calls `tool`; returns what the tool told the model."""
    server, model = make_server([call(tool, **arguments)], [message("OK.")])
    events = await turn(server, ck.create_thread(f"please {tool}"), user)
    raw_output = model.calls[1].input[-1]["output"]
    # Compact JSON keeps the model's context small.
    compact = json.dumps(json.loads(raw_output), ensure_ascii=False, separators=(",", ":"))
    assert raw_output == compact
    return last_tool_output(model.calls[1]), events


def changed(events: list[Any]) -> bool:
    return any(event.type == "client_effect" for event in events)


async def todo(owner: User, title: str, **fields: Any) -> Todo:
    return await Todo.objects.acreate(owner=owner, title=title, **fields)


async def test_add_todo_creates_it_with_every_field(user):
    output, events = await use_tool(
        user,
        "add_todo",
        title="  File taxes ",
        description="before April",
        priority="high",
        due_date="2030-04-01",
    )

    created = await Todo.objects.aget(owner=user)
    assert (created.title, created.description, created.priority, created.due_date) == (
        "File taxes",
        "before April",
        "high",
        datetime.date(2030, 4, 1),
    )
    assert output == {
        "todo": {
            "id": created.id,
            "title": "File taxes",
            "description": "before April",
            "completed": False,
            "priority": "high",
            "due_date": "2030-04-01",
        }
    }
    assert changed(events)


async def test_changes_are_kept_as_hidden_context(user):
    server, _ = make_server([call("add_todo", title="Call mom")], [message("Added.")])
    events = await turn(server, ck.create_thread("add call mom"), user)

    items = await stored_items(server, events[0].thread.id, user)
    hidden = [item for item in items if item.type == "hidden_context_item"]
    created = await Todo.objects.aget(owner=user)
    assert len(hidden) == 1
    assert hidden[0].content == (
        f'Tool add_todo -> {{"id":{created.id},"title":"Call mom","description":"",'
        '"completed":false,"priority":"medium","due_date":null}'
    )


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"title": "   "}, "Title must not be empty."),
        ({"title": "x" * 201}, "Title must be at most 200 characters (got 201)."),
        (
            {"title": "Taxes", "due_date": "next week"},
            "Due date must be a date in YYYY-MM-DD format.",
        ),
    ],
)
async def test_add_todo_reports_invalid_fields(user, arguments, error):
    output, events = await use_tool(user, "add_todo", **arguments)

    assert output == {"error": error}
    assert not await Todo.objects.aexists()
    assert not changed(events)


async def test_arguments_outside_the_schema_go_back_to_the_model(user):
    output, events = await use_tool(user, "add_todo", title="Taxes", priority="urgent")

    assert output["error"].startswith("Invalid arguments for add_todo")
    assert not await Todo.objects.aexists()
    assert not [event for event in events if event.type == "error"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", ["Open B", "Open A"]),
        ("completed", ["Done"]),
        ("all", ["Open B", "Done", "Open A"]),
    ],
)
async def test_list_todos_filters_by_status_and_owner(user, other_user, status, expected):
    await todo(user, "Open A")
    await todo(user, "Done", completed=True)
    await todo(user, "Open B")
    await todo(other_user, "Not yours")

    output, events = await use_tool(user, "list_todos", status=status)

    assert [item["title"] for item in output["todos"]] == expected
    assert (output["status"], output["count"]) == (status, len(expected))
    assert not changed(events)


async def test_list_todos_caps_what_the_model_sees(user):
    await Todo.objects.abulk_create(
        [Todo(owner=user, title=f"Todo {n}") for n in range(MAX_LISTED + 1)]
    )

    output, _ = await use_tool(user, "list_todos", status="all")

    assert (output["count"], len(output["todos"]), output["truncated"]) == (
        MAX_LISTED + 1,
        MAX_LISTED,
        True,
    )


async def test_search_todos_looks_in_titles_and_descriptions_of_the_caller(user, other_user):
    await todo(user, "Buy MILK")
    await todo(user, "Groceries", description="oat milk")
    await todo(user, "Walk the dog")
    await todo(other_user, "milk for them")

    output, _ = await use_tool(user, "search_todos", query="milk")

    assert sorted(item["title"] for item in output["todos"]) == ["Buy MILK", "Groceries"]
    assert output["query"] == "milk"


async def test_complete_by_title_and_reopen_by_id(user):
    milk = await todo(user, "Buy milk")

    output, events = await use_tool(user, "complete_todo", ref="BUY MILK")
    await milk.arefresh_from_db()
    assert milk.completed and output["todo"]["completed"] is True
    assert changed(events)

    output, _ = await use_tool(user, "reopen_todo", ref=f"#{milk.id}")
    await milk.arefresh_from_db()
    assert not milk.completed and output["todo"]["completed"] is False


async def test_refs_never_reach_another_users_todo(user, other_user):
    theirs = await todo(other_user, "Secret plan")

    for tool in ("complete_todo", "reopen_todo", "delete_todo"):
        by_id, events = await use_tool(user, tool, ref=f"#{theirs.id}")
        by_title, _ = await use_tool(user, tool, ref="Secret plan")
        assert by_id == {"error": f"No todo #{theirs.id}."}
        assert by_title == {"error": 'No todo matches "Secret plan".'}
        assert not changed(events)
    output, _ = await use_tool(user, "update_todo", ref=f"#{theirs.id}", title="Mine now")
    assert output == {"error": f"No todo #{theirs.id}."}

    await theirs.arefresh_from_db()
    assert (theirs.title, theirs.completed) == ("Secret plan", False)


async def test_an_ambiguous_title_asks_the_user_which_one(user):
    first = await todo(user, "Call Bob")
    second = await todo(user, "Call Bob")
    server, model = make_server([call("complete_todo", ref="call bob")], [message("OK.")])

    events = await turn(server, ck.create_thread("please complete_todo"), user)

    asked = [e.item for e in events if e.type == "thread.item.done"][-1]
    assert asked.type == "structured_input"
    assert {o.value for o in asked.inputs[0].options} == {str(first.id), str(second.id)}
    assert len(model.calls) == 1  # the run stopped at the question
    assert not await Todo.objects.filter(completed=True).aexists()


async def test_update_todo_changes_only_the_given_fields(user):
    taxes = await todo(user, "Taxes", description="forms", due_date=datetime.date(2030, 1, 1))

    output, events = await use_tool(
        user, "update_todo", ref="taxes", title="File taxes", priority="low", due_date=""
    )

    await taxes.arefresh_from_db()
    assert (taxes.title, taxes.description, taxes.priority, taxes.due_date) == (
        "File taxes",
        "forms",
        "low",
        None,
    )
    assert output["todo"]["title"] == "File taxes"
    assert changed(events)


async def test_update_todo_without_changes_is_an_error(user):
    await todo(user, "Taxes")

    output, events = await use_tool(user, "update_todo", ref="Taxes")

    assert output["error"].startswith("Nothing to change")
    assert not changed(events)


async def test_delete_todo_by_id(user):
    milk = await todo(user, "Buy milk")
    keep = await todo(user, "Keep me")

    output, events = await use_tool(user, "delete_todo", ref=str(milk.id))

    assert output["todo"] == {
        "id": milk.id,
        "title": "Buy milk",
        "description": "",
        "completed": False,
        "priority": "medium",
        "due_date": None,
    }
    assert [t.id async for t in Todo.objects.all()] == [keep.id]
    assert changed(events)
