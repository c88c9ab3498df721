"""Writes: a turn's usage row, written once when the turn ends, off the stream's path."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import openai
from agents import MaxTurnsExceeded, ToolCallItem, Usage
from chatkit.errors import CustomStreamError
from django.utils import timezone

from config import logcontext, pg
from config.db import run_sync
from usage import metrics
from usage.models import FIRST_TOKEN_COLUMNS, Outcome, TurnUsage, UsageDay, UsageThreadDay
from usage.prices import turn_cost
from usage.quota import Reservation, settle
from usage.rollup import THREAD_DAY_COLUMNS, day_delta, turn_usage_create, utc_day

logger = logging.getLogger(__name__)

# Rows being written; a test (or a shutdown) can wait for them (turn_records_flush).
_pending: set[asyncio.Task[Any]] = set()

_COLUMNS = (
    "user_id",
    "thread_id",
    "model",
    "requests",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "estimated",
    "tool_calls",
    "first_token_ms",
    "total_ms",
    "outcome",
    "error_kind",
    "cost",
    "created_at",
)
_DAY_COLUMNS = ("turns", "errors", "input_tokens", "output_tokens", "cost", *FIRST_TOKEN_COLUMNS)
_DAY_TABLE = UsageDay._meta.db_table
# The turn's row and its user's day in one statement (PostgreSQL): the day is created
# or added to (ON CONFLICT), so concurrent turns of one user add up exactly.
_THREAD_TABLE = UsageThreadDay._meta.db_table
_INSERT = (
    f"WITH turn AS (INSERT INTO {TurnUsage._meta.db_table} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})), "
    f"thread_day AS (INSERT INTO {_THREAD_TABLE} (day, thread_id, user_id, "
    f"{', '.join(THREAD_DAY_COLUMNS)}) "
    f"SELECT %s, %s, %s, {', '.join(['%s'] * len(THREAD_DAY_COLUMNS))} WHERE %s <> '' "
    "ON CONFLICT (day, thread_id) DO UPDATE SET "
    + ", ".join(f"{name} = {_THREAD_TABLE}.{name} + EXCLUDED.{name}" for name in THREAD_DAY_COLUMNS)
    + ") "
    f"INSERT INTO {_DAY_TABLE} (day, user_id, {', '.join(_DAY_COLUMNS)}) "
    f"VALUES (%s, %s, {', '.join(['%s'] * len(_DAY_COLUMNS))}) "
    "ON CONFLICT (day, user_id) DO UPDATE SET "
    + ", ".join(f"{name} = {_DAY_TABLE}.{name} + EXCLUDED.{name}" for name in _DAY_COLUMNS)
)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else max(0, round(seconds * 1000))


def error_kind_of(exc: BaseException) -> str:
    """A failed turn's error kind, for usage rows and metrics (never the message)."""
    match exc:
        case TimeoutError() | openai.APITimeoutError():
            return "timeout"
        case openai.RateLimitError():
            return "rate_limit"
        case openai.APIConnectionError():
            return "connection"
        case openai.APIStatusError():
            return f"status_{exc.status_code}"
        case MaxTurnsExceeded():
            return "max_turns"
        case CustomStreamError():
            return "stream_error"
    return "internal"


def turn_row(
    *,
    user_id: int | None,
    thread_id: str,
    model: str,
    usage: Usage | None,
    tool_calls: int,
    started: float,
    first_token_at: float | None,
    ended: float,
    outcome: Outcome | str,
    error_kind: str = "",
    estimated: bool = False,
) -> dict[str, Any]:
    """The row's columns (priced now, so a later price change doesn't rewrite history)."""
    usage = usage or Usage()
    cached = usage.input_tokens_details.cached_tokens or 0
    reasoning = usage.output_tokens_details.reasoning_tokens or 0
    return {
        "user_id": user_id,
        "thread_id": thread_id or "",
        "model": model,
        "requests": usage.requests,
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": cached,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": reasoning,
        "estimated": estimated,
        "tool_calls": tool_calls,
        "first_token_ms": _ms(None if first_token_at is None else first_token_at - started),
        "total_ms": _ms(ended - started) or 0,
        "outcome": str(outcome),
        "error_kind": error_kind,
        "cost": turn_cost(
            model=model,
            input_tokens=usage.input_tokens,
            cached_input_tokens=cached,
            output_tokens=usage.output_tokens,
        ),
        "created_at": timezone.now(),
    }


def turn_record(
    *,
    user_id: int | None,
    thread_id: str,
    model: str,
    result: Any | None,
    started: float,
    first_token_at: float | None,
    outcome: Outcome | str,
    error_kind: str = "",
    estimated: bool = False,
    reservation: Reservation | None = None,
) -> None:
    """Record a turn that just ended: its row is written (and its claimed budget
    reservation settled with its real tokens) in the background, so the stream's end waits for
    nothing. `result` is the Agents SDK's run result (its usage is summed over the
    run's model requests), None when the run never started."""
    usage = result.context_wrapper.usage if result is not None else None
    tool_calls = (
        sum(1 for item in result.new_items if isinstance(item, ToolCallItem)) if result else 0
    )
    row = turn_row(
        user_id=user_id,
        thread_id=thread_id,
        model=model,
        usage=usage,
        tool_calls=tool_calls,
        started=started,
        first_token_at=first_token_at,
        ended=time.monotonic(),
        outcome=outcome,
        error_kind=error_kind,
        estimated=estimated,
    )
    logcontext.bind(outcome=row["outcome"])
    logger.info(
        "Turn %s: %d tokens in, %d out, %d ms",
        row["outcome"],
        row["input_tokens"],
        row["output_tokens"],
        row["total_ms"],
        extra={"model": model, "error_kind": error_kind or None},
    )
    metrics.turn_observed(
        outcome=row["outcome"],
        error_kind=error_kind,
        first_token_seconds=None if first_token_at is None else first_token_at - started,
        total_seconds=row["total_ms"] / 1000,
        tokens={
            "input": row["input_tokens"],
            "cached_input": row["cached_input_tokens"],
            "output": row["output_tokens"],
            "reasoning": row["reasoning_tokens"],
        },
    )
    task = asyncio.ensure_future(_write(row, reservation))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _write(row: dict[str, Any], reservation: Reservation | None) -> None:
    if reservation is not None:
        await settle(reservation, row["input_tokens"] + row["output_tokens"])
    try:
        if pg.enabled() and row["user_id"] is not None:
            delta = day_delta(row)
            day = utc_day(row["created_at"])
            params = (
                *(row[column] for column in _COLUMNS),
                day,
                row["thread_id"],
                row["user_id"],
                *(delta[name] for name in THREAD_DAY_COLUMNS),
                row["thread_id"],
                day,
                row["user_id"],
                *(delta[name] for name in _DAY_COLUMNS),
            )
            await pg.execute_once(_INSERT, params)
        else:
            await run_sync(turn_usage_create, row)
    except Exception:  # a lost usage row must not break chat; it is logged
        logger.exception("Could not record a turn's usage")


async def turn_records_flush() -> None:
    """Wait until every usage row handed to turn_record is written."""
    while _pending:
        await asyncio.gather(*_pending, return_exceptions=True)
