"""A usage row per turn: offline (estimated), a real model's exact usage, stopped, failed."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import User
from chat.context import RequestContext
from chat.server import get_server
from chat.store import wait_for_pending_writes
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, as_configured_model
from usage.models import TurnUsage, UsageDay, UsageThreadDay
from usage.prices import turn_cost
from usage.services import turn_records_flush

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


async def turn(user: User, text: str) -> list[Any]:
    result = await get_server().process(ck.create_thread(text), RequestContext(user=user))
    events = await ck.read_events(result)
    await turn_records_flush()
    return events


async def only_row() -> TurnUsage:
    rows = [row async for row in TurnUsage.objects.all()]
    assert len(rows) == 1
    return rows[0]


async def test_an_offline_turn_is_recorded_with_estimated_tokens(user):
    events = await turn(user, "add buy bread")

    row = await only_row()
    assert row.user_id == user.pk
    assert row.thread_id == events[0].thread.id
    assert (row.model, row.outcome, row.error_kind, row.estimated) == (
        "offline",
        "answered",
        "",
        True,
    )
    assert row.requests == 2 and row.tool_calls == 1
    assert row.input_tokens > 100 and row.output_tokens > 5  # the prompt and the tools are sent
    assert row.cost == 0
    assert row.first_token_ms is not None and row.first_token_ms <= row.total_ms


async def test_a_real_model_turn_stores_the_providers_usage_exactly(user, settings):
    settings.USAGE = {
        **settings.USAGE,
        "PRICES": {"gpt-test-mini": {"input": 0.4, "cached_input": 0.1, "output": 1.6}},
    }
    fake = FakeOpenAI(tool_call_usage=(1234, 1024, 56, 32), answer_usage=(1402, 1280, 19, 7))
    with as_configured_model(settings, fake):
        await turn(user, "I need oat milk")

    row = await only_row()
    assert (row.model, row.outcome, row.estimated) == ("gpt-test-mini", "answered", False)
    assert (row.requests, row.tool_calls) == (2, 1)
    assert row.input_tokens == 1234 + 1402
    assert row.cached_input_tokens == 1024 + 1280
    assert row.output_tokens == 56 + 19
    assert row.reasoning_tokens == 32 + 7
    # Uncached input, cached input and output at their prices, per million tokens:
    # (2636 - 2304) * 0.4 + 2304 * 0.1 + 75 * 1.6 = 483.2
    assert row.cost == Decimal("0.0004832")
    thread_day = await UsageThreadDay.objects.aget(thread_id=row.thread_id)
    assert (thread_day.user_id, thread_day.turns, thread_day.input_tokens) == (user.pk, 1, 2636)
    day = await UsageDay.objects.aget(user=user)  # the daily rollup, in the same write
    assert (day.turns, day.input_tokens, day.output_tokens, day.cost) == (
        1,
        2636,
        75,
        Decimal("0.0004832"),
    )


async def test_a_turn_the_client_stops_is_recorded_as_stopped(user, settings):
    settings.CHATKIT = {**settings.CHATKIT, "OFFLINE_TOKEN_DELAY_MS": 5000}
    result = await get_server().process(ck.create_thread("hello?"), RequestContext(user=user))
    first_text = asyncio.Event()

    async def client() -> None:
        async for chunk in result:
            if b"text_delta" in chunk:
                first_text.set()

    task = asyncio.create_task(client())
    await asyncio.wait_for(first_text.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_pending_writes()
    await turn_records_flush()

    row = await only_row()
    assert (row.outcome, row.model, row.estimated) == ("stopped", "offline", True)
    assert row.first_token_ms is not None
    assert row.total_ms < 5000  # it ended when the client went, not after the answer


async def test_a_failed_turn_is_recorded_with_its_error_kind(user, settings):
    with as_configured_model(settings, FakeOpenAI(mode="fail_after_tool")):
        events = await turn(user, "I need oat milk")

    assert any(event.type == "error" for event in events)
    row = await only_row()
    assert (row.outcome, row.error_kind) == ("failed", "rate_limit")
    # The tool call's request was answered and counted; the failed one was not.
    assert (row.input_tokens, row.output_tokens, row.tool_calls) == (1234, 56, 1)


def test_cost_comes_from_the_price_table_and_dated_snapshots_share_it(settings):
    settings.USAGE = {
        **settings.USAGE,
        "PRICES": {"big": {"input": 2, "output": 8}, "big-mini": {"input": 1, "output": 2}},
    }
    cost = turn_cost(model="big", input_tokens=1_000_000, cached_input_tokens=0, output_tokens=0)
    assert cost == Decimal(2)
    # No cached price: cached input is charged as input.
    assert turn_cost(
        model="big", input_tokens=500_000, cached_input_tokens=500_000, output_tokens=250_000
    ) == Decimal(3)
    assert turn_cost(
        model="big-mini-2025-04-14", input_tokens=0, cached_input_tokens=0, output_tokens=10**6
    ) == Decimal(2)
    assert (
        turn_cost(model="unknown", input_tokens=1, cached_input_tokens=0, output_tokens=1) is None
    )
