"""One run of the todo agent: its input from the thread, and its events as streamed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing

from agents import Model, Runner, RunResultStreaming, TResponseInputItem
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.types import (
    ThreadItem,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)
from django.conf import settings

from chat.agent import MAX_TURNS, build_agent, get_run_config, model_label, traced
from chat.context import RequestContext
from chat.converter import TodoThreadItemConverter
from chat.idle_timeout import with_idle_timeout
from chat.ledger import TurnLedger, already_applied_notes
from chat.offline_model import OfflineModel
from config import logcontext
from usage import metrics
from usage.quota import claim
from usage.services import error_kind_of, turn_record


async def build_agent_input(
    thread: ThreadMetadata,
    history_desc: list[ThreadItem],
    input_user_message: UserMessageItem | None,
    context: RequestContext,
) -> list[TResponseInputItem]:
    """The thread's recent history (newest first) as model input; a user message's
    turn gets its ledger, and a retry the notes on what its first run already did."""
    converter = TodoThreadItemConverter(user=context.user)
    agent_input = await converter.to_agent_input(list(reversed(history_desc)))
    if input_user_message is not None:
        context.inference_options = input_user_message.inference_options
        context.ledger = TurnLedger(thread.id, input_user_message.id, rerun=context.rerun)
        if context.rerun:
            agent_input += await already_applied_notes(thread.id, input_user_message.id)
    return agent_input


async def run_agent(
    agent_context: AgentContext[RequestContext],
    agent_input: list[TResponseInputItem],
    *,
    model: Model | None,
) -> AsyncIterator[ThreadStreamEvent]:
    """The agent's events, cut off after the configured silence from the model.
    `model` None: the configured model (get_model), looked up on every turn."""
    result: RunResultStreaming | None = None
    run_config = traced(
        get_run_config(model, agent_context.request_context.inference_options),
        thread_id=agent_context.thread.id,
        user_id=agent_context.request_context.user.pk,
    )
    # The budget this turn holds; settled with its real tokens when the run ends.
    reservation = claim(agent_context.request_context.quota_reservation)
    # For the turn's usage row: a run that neither finishes nor fails was stopped.
    started, first_token_at, outcome, error_kind = time.monotonic(), None, "stopped", ""
    logcontext.bind(thread_id=agent_context.thread.id)
    metrics.ACTIVE_RUNS.inc()
    try:
        result = Runner.run_streamed(
            build_agent(),
            agent_input,
            context=agent_context,
            max_turns=MAX_TURNS,
            run_config=run_config,
        )
        idle_timeout = settings.CHATKIT["MODEL_TIMEOUT_SECONDS"]
        async with (
            aclosing(stream_agent_response(agent_context, result)) as events,
            aclosing(with_idle_timeout(events, idle_timeout)) as timed_events,
        ):
            async for event in timed_events:
                if first_token_at is None and isinstance(event, ThreadItemUpdatedEvent):
                    first_token_at = time.monotonic()
                yield event
        outcome = "answered"
    except Exception as exc:
        outcome, error_kind = "failed", error_kind_of(exc)
        raise
    finally:
        # On a stop (CancelledError: the stop endpoint, or a hang-up with
        # CHATKIT_STOP_ON_DISCONNECT=1) or any failure, stop the
        # model and tools; the SDK then saves what was streamed so far.
        if result is not None and not result.is_complete:
            result.cancel()
        metrics.ACTIVE_RUNS.dec()
        turn_record(  # written in the background: nothing here waits for it
            user_id=agent_context.request_context.user.pk,
            thread_id=agent_context.thread.id,
            model=model_label(run_config.model),
            result=result,
            started=started,
            first_token_at=first_token_at,
            outcome=outcome,
            error_kind=error_kind,
            estimated=isinstance(run_config.model, OfflineModel),
            reservation=reservation,
        )
