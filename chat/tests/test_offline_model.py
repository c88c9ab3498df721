"""The offline model: its command parsing, its Responses stream, and whole turns
through the real server, agent, tools and store."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from agents import ModelSettings, ModelTracing

from accounts.models import User
from chat.context import RequestContext
from chat.offline_model import HELP_TEXT, OfflineModel, Reply, decide, parse_command
from chat.server import get_server
from chat.tests import chatkit_client as ck
from todos.models import Todo

# --- parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("add buy milk", "add_todo", {"title": "buy milk"}),
        ("ADD Buy Milk", "add_todo", {"title": "Buy Milk"}),
        ('Add "call mom".', "add_todo", {"title": "call mom"}),
        ("list", "show_todos", {"status": "open"}),
        ("LIST", "show_todos", {"status": "open"}),
        ("Show my todos", "show_todos", {"status": "open"}),
        ("list all", "show_todos", {"status": "all"}),
        ("show completed todos", "show_todos", {"status": "completed"}),
        ("complete buy milk", "complete_todo", {"ref": "buy milk"}),
        ("Complete #12", "complete_todo", {"ref": "#12"}),
        ("reopen #3", "reopen_todo", {"ref": "#3"}),
        ("DELETE Buy Milk", "delete_todo", {"ref": "Buy Milk"}),
        ("search milk", "search_todos", {"query": "milk"}),
    ],
)
def test_commands_map_to_tool_calls(text, tool, arguments):
    assert parse_command(text) == Reply(tool=tool, arguments=arguments)


@pytest.mark.parametrize("text", ["hello", "", "what can you do?", "addition", "listen"])
def test_anything_else_gets_the_help_text(text):
    assert parse_command(text) == Reply(text=HELP_TEXT)


def test_the_latest_user_message_decides():
    history = [
        {"role": "user", "content": "add old thing"},
        {"role": "assistant", "type": "message", "content": [{"type": "output_text", "text": "x"}]},
        {"role": "developer", "content": "Tool add_todo -> {}"},
        {"role": "user", "type": "message", "content": [{"type": "input_text", "text": "list"}]},
    ]
    assert decide(history) == Reply(tool="show_todos", arguments={"status": "open"})


@pytest.mark.parametrize(
    ("tool", "arguments", "output", "answer"),
    [
        ("add_todo", {}, {"todo": {"id": 7, "title": "buy milk"}}, 'Added "buy milk" (#7).'),
        ("complete_todo", {}, {"todo": {"id": 7, "title": "x"}}, 'Marked "x" as done.'),
        ("reopen_todo", {}, {"todo": {"id": 7, "title": "x"}}, 'Reopened "x".'),
        ("delete_todo", {}, {"todo": {"id": 7, "title": "x"}}, 'Deleted "x".'),
        ("complete_todo", {}, {"error": 'No todo matches "x".'}, 'No todo matches "x".'),
        ("list_todos", {}, {"status": "open", "todos": []}, "You have no open todos."),
        (
            "list_todos",
            {},
            {"status": "open", "todos": [{"id": 1, "title": "a", "priority": "high"}]},
            "Your open todos:\n- [ ] #1 a (high priority)",
        ),
        ("search_todos", {"query": "zz"}, {"query": "zz", "todos": []}, 'No todos match "zz".'),
    ],
)
def test_tool_results_are_phrased(tool, arguments, output, answer):
    history = [
        {"role": "user", "content": "whatever"},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": tool,
            "arguments": json.dumps(arguments),
        },
        {"type": "function_call_output", "call_id": "call_1", "output": json.dumps(output)},
    ]
    assert decide(history) == Reply(text=answer)


# --- the Responses stream ----------------------------------------------------------


NO_PREVIOUS = {"previous_response_id": None, "conversation_id": None, "prompt": None}


def model_call(text: str) -> tuple[Any, ...]:
    """The positional arguments the Agents runner passes a model, for one user message."""
    return (
        None,
        [{"role": "user", "content": text}],
        ModelSettings(),
        [],
        None,
        [],
        ModelTracing.DISABLED,
    )


async def stream(model: OfflineModel, text: str) -> list[Any]:
    return [event async for event in model.stream_response(*model_call(text), **NO_PREVIOUS)]


async def test_a_text_answer_streams_as_responses_events():
    events = await stream(OfflineModel(token_delay_ms=0), "hello")

    types = [kind for kind, _ in itertools.groupby(event.type for event in events)]
    assert types == [
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == HELP_TEXT
    assert events[-1].response.output[0].content[0].text == HELP_TEXT


async def test_a_tool_call_streams_its_arguments():
    events = await stream(OfflineModel(token_delay_ms=0), "add tea")

    call = events[-1].response.output[0]
    assert (call.type, call.name, json.loads(call.arguments)) == (
        "function_call",
        "add_todo",
        {"title": "tea"},
    )
    assert [e.type for e in events][1:4] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
    ]


async def test_every_response_item_gets_a_fresh_id():
    model = OfflineModel(token_delay_ms=0)
    first, second = await stream(model, "hello"), await stream(model, "hello")
    third = await stream(model, "add tea")

    ids = [events[-1].response.output[0].id for events in (first, second, third)]
    assert len(set(ids)) == 3
    assert ids[0].startswith("msg_") and ids[2].startswith("fc_")
    assert first[-1].response.id != second[-1].response.id


# --- whole turns through the server ----------------------------------------------


class Chat:
    """One user's conversation with the configured (offline) server."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.thread_id: str | None = None

    async def say(self, text: str) -> list[Any]:
        body = (
            ck.create_thread(text)
            if self.thread_id is None
            else ck.add_message(self.thread_id, text)
        )
        result = await get_server().process(body, RequestContext(user=self.user))
        events = await ck.read_events(result)
        if self.thread_id is None:
            self.thread_id = events[0].thread.id
        assert not [event for event in events if event.type == "error"], events
        return events


@pytest.mark.django_db(transaction=True)
async def test_add_list_complete_delete_by_title_and_id(user, other_user):
    theirs = await Todo.objects.acreate(owner=other_user, title="Buy milk")
    chat = Chat(user)

    events = await chat.say("ADD Buy milk")
    milk = await Todo.objects.aget(owner=user)
    assert milk.title == "Buy milk"
    assert ck.assistant_text(events) == f'Added "Buy milk" (#{milk.id}).'
    assert "client_effect" in [event.type for event in events]

    await chat.say("add Walk the dog")
    events = await chat.say("Show my todos")
    dog = await Todo.objects.aget(owner=user, title="Walk the dog")
    assert ck.assistant_text(events) == "Here are your open todos (2)."
    widget = next(
        e.item for e in events if e.type == "thread.item.done" and e.item.type == "widget"
    )
    assert widget.copy_text == (
        f"Open todos\n- [ ] #{dog.id} Walk the dog\n- [ ] #{milk.id} Buy milk"
    )
    assert "client_effect" not in [event.type for event in events]

    events = await chat.say("complete BUY MILK")
    assert ck.assistant_text(events) == 'Marked "Buy milk" as done.'
    await milk.arefresh_from_db()
    assert milk.completed

    events = await chat.say(f"reopen #{milk.id}")
    assert ck.assistant_text(events) == 'Reopened "Buy milk".'

    events = await chat.say(f"Delete #{dog.id}")
    assert ck.assistant_text(events) == 'Deleted "Walk the dog".'
    events = await chat.say("delete buy milk")
    assert ck.assistant_text(events) == 'Deleted "Buy milk".'

    assert not await Todo.objects.filter(owner=user).aexists()
    await theirs.arefresh_from_db()
    assert (theirs.title, theirs.completed) == ("Buy milk", False)


@pytest.mark.django_db(transaction=True)
async def test_unknown_text_and_misses_get_short_answers(user):
    chat = Chat(user)

    events = await chat.say("hello there")
    assert ck.assistant_text(events) == HELP_TEXT
    events = await chat.say("complete the moon landing")
    assert ck.assistant_text(events) == 'No todo matches "the moon landing".'
    events = await chat.say("search milk")
    assert ck.assistant_text(events) == 'No todos match "milk".'
    assert not await Todo.objects.aexists()


@pytest.mark.django_db(transaction=True)
async def test_each_turn_gets_fresh_assistant_message_ids(user):
    chat = Chat(user)
    ids = []
    for text in ("hello", "hello", "add tea", "list"):
        events = await chat.say(text)
        ids += [
            event.item.id
            for event in events
            if event.type == "thread.item.done" and event.item.type == "assistant_message"
        ]

    assert len(ids) == len(set(ids)) == 4
    page = await get_server().store.load_thread_items(
        chat.thread_id, None, 100, "asc", RequestContext(user)
    )
    stored = [item.id for item in page.data if item.type == "assistant_message"]
    assert stored == ids


@pytest.mark.django_db(transaction=True)
async def test_chunks_are_spread_out_by_the_configured_delay(user, settings):
    delay = 0.04
    settings.CHATKIT = {**settings.CHATKIT, "OFFLINE_TOKEN_DELAY_MS": int(delay * 1000)}
    started = time.monotonic()
    result = await get_server().process(ck.create_thread("hi"), RequestContext(user=user))

    arrivals = []
    async for chunk in result:
        for event in ck.parse_sse(chunk):
            if event.type == "thread.item.updated" and event.update.type == (
                "assistant_message.content_part.text_delta"
            ):
                arrivals.append(time.monotonic())

    # The help text comes in many chunks; every one after the first waits the delay
    # (our side may batch a pair now and then, so only most gaps are checked).
    chunks = len(arrivals)
    assert chunks > 3
    assert arrivals[-1] - started >= (chunks - 1) * delay
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert sum(gap >= delay / 2 for gap in gaps) >= len(gaps) / 2


async def test_the_non_streaming_path_answers_the_same_way():
    response = await OfflineModel(token_delay_ms=0).get_response(
        *model_call("complete #4"), **NO_PREVIOUS
    )

    (call,) = response.output
    assert (call.name, json.loads(call.arguments)) == ("complete_todo", {"ref": "#4"})
