"""The model-input budget (chat/budget.py): a thread past it still answers, and
no model call receives more than the budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accounts.models import User
from chat.budget import TRUNCATED, trim_to_budget
from chat.context import RequestContext
from chat.server import get_server
from chat.tests import chatkit_client as ck
from chat.tests.test_real_model import fake_openai  # noqa: F401 (fixture)


def message(role: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": text}


def call(n: int) -> dict[str, Any]:
    return {"type": "function_call", "call_id": f"c{n}", "name": "list_todos", "arguments": "{}"}


def output(n: int, text: str) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": f"c{n}", "output": text}


def test_tool_outputs_and_notes_are_capped():
    items = [
        message("developer", "n" * 5000),
        call(1),
        output(1, "o" * 5000),
        message("user", "u" * 5000),
    ]
    trimmed = trim_to_budget(items, budget=100_000, tool_output_max=1000)
    assert len(trimmed[0]["content"]) == 1000 and trimmed[0]["content"].endswith(TRUNCATED)
    assert len(trimmed[2]["output"]) == 1000
    assert trimmed[3] == items[3]  # the user's own words are not cut


def test_oldest_items_go_first_and_the_current_turn_stays():
    items = [
        message("user", "a" * 1000),
        message("assistant", "b" * 1000),
        message("user", "c" * 1000),
        call(1),
        output(1, "d" * 1000),
    ]
    trimmed = trim_to_budget(items, budget=2500, tool_output_max=10_000)
    assert trimmed == items[2:]
    # Even over budget, the current turn (last user message onwards) is kept whole.
    assert trim_to_budget(items, budget=10, tool_output_max=10_000) == items[2:]


def test_history_never_starts_with_half_a_tool_call():
    items = [
        message("user", "old"),
        call(1),
        output(1, "x" * 3000),
        message("assistant", "done"),
        message("user", "now"),
    ]
    trimmed = trim_to_budget(items, budget=600, tool_output_max=10_000)
    assert trimmed[0] == message("assistant", "done")
    assert all(item.get("type") != "function_call_output" for item in trimmed)


@pytest.mark.django_db(transaction=True)
async def test_a_thread_past_the_budget_still_answers(fake_openai, user: User, settings):  # noqa: F811
    budget = 12_000
    settings.CHATKIT = {**settings.CHATKIT, "MODEL_INPUT_BUDGET_CHARS": budget}
    server, context = get_server(), RequestContext(user=user)
    long_text = "please remember this " * 350  # ~7,350 characters, under the message limit

    async def turn(body: bytes) -> list[Any]:
        result = await server.process(body, context)
        return await ck.read_events(result)

    events = await turn(ck.create_thread("first " + long_text))
    thread_id = events[0].thread.id
    for number in range(2, 7):  # five more: far past the budget in total
        # A todo of its own each time (an open one of the same title would be a question).
        fake_openai.todo_title = f"Buy oat milk {number}"
        events = await turn(ck.add_message(thread_id, f"message {number} " + long_text))
        assert ck.assistant_text(events) == "Added oat milk to your list.", events

    sizes = [len(json.dumps(request.body["input"])) for request in fake_openai.requests]
    assert max(sizes) <= budget + 1000  # JSON of the request vs. of the items: close
    last_input = json.dumps(fake_openai.requests[-1].body["input"])
    assert "message 6" in last_input and "first please" not in last_input
