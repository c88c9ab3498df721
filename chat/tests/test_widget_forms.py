"""The todo list widget's add form (`todos.create`), its "and N more" row with
"Show more" (`todos.more`), its due-date marks and the todo preview widget, end to
end through `POST /chatkit`."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from chatkit.widgets import Button, Caption, DatePicker, Form, Input, Select
from django.utils import timezone

from chat.tests import chatkit_client as ck
from chat.tests.test_actions import act, events_of, stored_widget
from chat.tests.test_views import post, stream
from chat.widgets import (
    ADD_FORM_KEY,
    MAX_WIDGET_ROWS,
    MORE_KEY,
    TODO_CREATE,
    TODO_MORE,
    todo_ids,
    todo_list_widget,
    todo_preview_widget,
)
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = datetime.date(2030, 6, 15)


@pytest.fixture
async def listed(async_client, user, bearer) -> dict:
    """A thread whose `list all` turn showed two open todos and one done one."""
    milk = await Todo.objects.acreate(owner=user, title="buy milk")
    await Todo.objects.acreate(owner=user, title="pay rent")
    await Todo.objects.acreate(owner=user, title="file taxes", completed=True)
    headers = bearer(user)
    events = await stream(async_client, ck.create_thread("list all"), headers)
    widget = ck.widget_item(events)
    return {
        "thread_id": events[0].thread.id,
        "widget_id": widget.id,
        "headers": headers,
        "todos": {"milk": milk},
    }


def row(widget, key):
    return next(r for r in widget.children if r.key == key)


def form_of(widget) -> Form:
    return row(widget, ADD_FORM_KEY).children[0]


def test_the_list_ends_with_an_add_form_submitting_todos_create():
    widget, _ = todo_list_widget([Todo(id=1, title="a")], heading="Open todos", status="open")

    assert widget.children[-1].key == ADD_FORM_KEY
    form = form_of(widget)
    assert form.onSubmitAction.type == TODO_CREATE
    fields = {c.name: c for c in form.children if hasattr(c, "name")}
    assert isinstance(fields["title"], Input) and fields["title"].required
    assert isinstance(fields["due_date"], DatePicker)
    assert isinstance(fields["priority"], Select)
    assert {o["value"] for o in fields["priority"].options} == {"low", "medium", "high"}
    assert any(isinstance(c, Button) and c.submit for c in form.children)


def test_a_list_shorter_than_what_exists_says_how_many_more_and_offers_them():
    todos = [Todo(id=n, title=f"todo {n}") for n in range(1, MAX_WIDGET_ROWS + 1)]

    widget, copy_text = todo_list_widget(todos, heading="Open todos", total=82, status="open")

    assert len(todo_ids(widget)) == MAX_WIDGET_ROWS
    more = row(widget, MORE_KEY)
    assert any(isinstance(c, Caption) and c.value == "and 32 more" for c in more.children)
    button = next(c for c in more.children if isinstance(c, Button))
    assert (button.onClickAction.type, button.onClickAction.payload) == (
        TODO_MORE,
        {"status": "open", "limit": MAX_WIDGET_ROWS + 32},
    )
    assert copy_text.endswith("…and 32 more.")
    full, _ = todo_list_widget(todos, heading="Open todos", total=MAX_WIDGET_ROWS, status="open")
    assert MORE_KEY not in [r.key for r in full.children]


def test_due_dates_read_as_the_todo_panel_shows_them_with_overdue_and_today_marked():
    todos = [
        Todo(id=1, title="late", due_date=TODAY - datetime.timedelta(days=1)),
        Todo(id=2, title="now", due_date=TODAY),
        Todo(id=3, title="later", due_date=datetime.date(2030, 7, 4)),
        Todo(id=4, title="next year", due_date=datetime.date(2031, 1, 2)),
        Todo(id=5, title="late but done", completed=True, due_date=datetime.date(2030, 1, 2)),
    ]

    widget, copy_text = todo_list_widget(todos, heading="All todos", today=TODAY)

    captions = [
        next((c.value, c.color) for c in r.children if isinstance(c, Caption))
        for r in widget.children[:5]
    ]
    assert captions == [
        ("overdue · due Jun 14", "danger"),
        ("due today", "warning"),
        ("due Jul 4", "secondary"),
        ("due Jan 2, 2031", "secondary"),
        ("due Jan 2", "secondary"),
    ]
    assert "#1 late (due 2030-06-14, overdue)" in copy_text
    assert "#2 now (due 2030-06-15, due today)" in copy_text


def test_the_preview_widget_shows_a_todos_details_and_actions():
    todo = Todo(id=9, title="oat milk", description="2 litres", priority="high", due_date=TODAY)

    card, copy_text = todo_preview_widget(todo, today=TODAY)

    dumped = card.model_dump_json()
    assert "oat milk" in dumped and "2 litres" in dumped and "due today" in dumped
    assert "Complete “oat milk”" in dumped and "Delete “oat milk”" in dumped
    assert "#9 oat milk" in copy_text


async def test_the_form_adds_a_todo_for_the_caller_and_updates_the_widget_in_place(
    async_client, listed, other_user
):
    payload = {"title": "  call mom ", "due_date": "2030-01-02", "priority": "high"}

    events = await events_of(await act(async_client, listed, TODO_CREATE, payload))

    todo = await Todo.objects.aget(title="call mom")
    assert todo.owner_id == listed["todos"]["milk"].owner_id
    assert (todo.priority, todo.due_date) == ("high", datetime.date(2030, 1, 2))
    assert not await Todo.objects.filter(owner=other_user).aexists()
    replaced = next(e for e in events if e.type == "thread.item.replaced")
    assert replaced.item.id == listed["widget_id"]
    assert todo_ids(replaced.item.widget)[0] == todo.id  # on top, newest first
    assert len(todo_ids(replaced.item.widget)) == 4
    assert replaced.item.widget.children[-1].key == ADD_FORM_KEY
    assert "client_effect" in [e.type for e in events]
    assert todo_ids((await stored_widget(listed)).widget)[0] == todo.id


async def test_a_date_pickers_timestamp_and_an_empty_optional_field_are_accepted(
    async_client, listed
):
    payload = {"title": "water plants", "due_date": "2030-03-04T00:00:00.000Z", "priority": ""}

    await events_of(await act(async_client, listed, TODO_CREATE, payload))

    todo = await Todo.objects.aget(title="water plants")
    assert (todo.priority, todo.due_date) == ("medium", datetime.date(2030, 3, 4))


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": "   "},
        {"title": "x" * 201},
        {"title": 5},
        {"title": "ok", "due_date": "tomorrow"},
        {"title": "ok", "priority": "urgent"},
        [1, 2],
    ],
)
async def test_a_bad_form_is_a_400_and_adds_nothing(async_client, listed, payload):
    before = await Todo.objects.acount()

    response = await act(async_client, listed, TODO_CREATE, payload)

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert response.json()["error"]["code"] == "bad_request"
    assert await Todo.objects.acount() == before


async def test_list_says_how_many_it_shows_and_show_more_grows_it(async_client, user, bearer):
    now = timezone.now()
    await Todo.objects.abulk_create(
        [
            Todo(owner=user, title=f"todo {n}", created_at=now + datetime.timedelta(seconds=n))
            for n in range(82)
        ]
    )
    headers = bearer(user)

    events = await stream(async_client, ck.create_thread("list"), headers)

    widget = ck.widget_item(events)
    assert len(todo_ids(widget.widget)) == MAX_WIDGET_ROWS
    answer = ck.assistant_text(events)
    assert "(82)" not in answer and "50" in answer and "82" in answer
    more = next(c for c in row(widget.widget, MORE_KEY).children if isinstance(c, Button))
    body = ck.custom_action(events[0].thread.id, widget.id, TODO_MORE, more.onClickAction.payload)
    grown = await stream(async_client, body, headers)
    replaced = next(e for e in grown if e.type == "thread.item.replaced").item
    assert len(todo_ids(replaced.widget)) == 82
    assert MORE_KEY not in [r.key for r in replaced.widget.children]

    bad = ck.custom_action(events[0].thread.id, widget.id, TODO_MORE, {"status": "x", "limit": 5})
    assert (await post(async_client, bad, headers)).status_code == HTTPStatus.BAD_REQUEST
