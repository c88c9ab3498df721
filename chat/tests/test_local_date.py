"""The client tool `get_local_date`: a message that needs the user's calendar ends its
stream with a pending `client_tool_call`; `threads.add_client_tool_output` continues
the turn with the client's date. Offline model and a real one (the fake OpenAI endpoint)."""

from __future__ import annotations

import datetime
import json

import pytest

from chat.offline_model import due_date_for, parse_command
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, as_configured_model
from chat.tests.test_views import post, stream
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_DATE = {"date": "2030-06-14", "timezone": "Europe/Paris"}  # a Friday


def client_call(events):
    done = [e for e in events if e.type == "thread.item.done"]
    assert done and done[-1].item.type == "client_tool_call", [e.type for e in events]
    return done[-1].item


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("today", "2030-06-14"),
        ("tomorrow", "2030-06-15"),
        ("friday", "2030-06-14"),
        ("Monday", "2030-06-17"),
        ("thursday", "2030-06-20"),
    ],
)
def test_relative_days_are_read_from_the_clients_day(when, expected):
    assert due_date_for(when, datetime.date(2030, 6, 14)).isoformat() == expected


def test_an_explicit_date_needs_no_calendar_and_a_relative_one_does():
    assert parse_command("add pay rent due 2030-01-31").arguments == {
        "title": "pay rent",
        "due_date": "2030-01-31",
    }
    assert parse_command("add pay rent due tomorrow").tool == "get_local_date"
    assert parse_command("add pay rent").arguments == {"title": "pay rent"}


@pytest.mark.parametrize(
    ("text", "due"),
    [("add pay rent due tomorrow", "2030-06-15"), ("ADD pay rent due Monday", "2030-06-17")],
)
async def test_a_relative_due_date_asks_the_client_then_adds_the_todo(
    async_client, user, other_user, bearer, text, due
):
    headers = bearer(user)

    asked = await stream(async_client, ck.create_thread(text), headers)

    call = client_call(asked)
    assert (call.name, call.status, call.arguments) == ("get_local_date", "pending", {})
    assert not await Todo.objects.aexists()
    assert [e.text for e in asked if e.type == "progress_update"]  # while it asks
    thread_id = asked[0].thread.id
    # Another user cannot answer it: their request names a thread that isn't theirs.
    foreign = await post(
        async_client, ck.client_tool_output(thread_id, CLIENT_DATE), bearer(other_user)
    )
    assert foreign.status_code == 404

    answered = await stream(async_client, ck.client_tool_output(thread_id, CLIENT_DATE), headers)

    todo = await Todo.objects.aget(owner=user)
    assert (todo.title, todo.due_date.isoformat()) == ("pay rent", due)
    assert due in ck.assistant_text(answered)
    assert "client_effect" in [e.type for e in answered]
    items = (await post(async_client, ck.list_items(thread_id), headers)).json()["data"]
    stored_call = next(i for i in items if i["type"] == "client_tool_call")
    assert (stored_call["status"], stored_call["output"]) == ("completed", CLIENT_DATE)
    # Answered once: a second answer has nothing pending.
    again = await post(async_client, ck.client_tool_output(thread_id, CLIENT_DATE), headers)
    assert again.status_code == 400
    assert await Todo.objects.acount() == 1


@pytest.mark.parametrize("text", ["add pay rent due 2030-01-31", "add pay rent", "list"])
async def test_a_turn_that_needs_no_date_never_asks(async_client, user, bearer, text):
    events = await stream(async_client, ck.create_thread(text), bearer(user))

    assert "client_tool_call" not in [
        e.item.type for e in events if e.type in ("thread.item.added", "thread.item.done")
    ]


@pytest.mark.parametrize(
    "text,date",
    [
        ("add pay rent due today", "soon"),
        # The last day there is: the day after it was an OverflowError, an error card.
        ("add pay rent due tomorrow", "9999-12-31"),
        ("add pay rent due friday", "9999-12-31"),
    ],
)
async def test_a_date_the_client_garbles_adds_nothing(async_client, user, bearer, text, date):
    headers = bearer(user)
    asked = await stream(async_client, ck.create_thread(text), headers)

    answered = await stream(
        async_client, ck.client_tool_output(asked[0].thread.id, {"date": date}), headers
    )

    assert "error" not in [e.type for e in answered]
    assert "couldn't read today's date" in ck.assistant_text(answered)
    assert not await Todo.objects.aexists()


async def test_a_real_model_asks_the_client_and_uses_its_date(async_client, user, bearer, settings):
    fake = FakeOpenAI(
        steps=[
            ("get_local_date", {}),
            ("add_todo", {"title": "pay rent", "due_date": "2030-06-15"}),
        ]
    )
    with as_configured_model(settings, fake):
        headers = bearer(user)
        asked = await stream(async_client, ck.create_thread("pay rent due tomorrow"), headers)
        call = client_call(asked)
        assert call.name == "get_local_date"
        agent = fake.agent_requests()  # (the title model's call comes after them)
        assert len(agent) == 1  # the run stopped at the client tool
        assert "get_local_date" in {tool["name"] for tool in agent[0].body["tools"]}

        thread_id = asked[0].thread.id
        answered = await stream(
            async_client, ck.client_tool_output(thread_id, CLIENT_DATE), headers
        )

    todo = await Todo.objects.aget(owner=user)
    assert (todo.title, todo.due_date.isoformat()) == ("pay rent", "2030-06-15")
    assert ck.assistant_text(answered)
    # The continued turn sent the model its own call and the client's answer to it.
    second = fake.agent_requests()[1].body["input"]
    call_item = next(i for i in second if i.get("type") == "function_call")
    output = next(i for i in second if i.get("type") == "function_call_output")
    assert call_item["name"] == "get_local_date"
    assert output["call_id"] == call_item["call_id"] == call.call_id
    assert json.loads(output["output"]) == CLIENT_DATE
