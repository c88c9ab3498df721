"""The todo agent and the model it runs on (a real OpenAI model, or the offline one).

Both are built lazily on first use and rebuilt when the CHATKIT setting changes,
so nothing talks to a provider at import time and tests can swap settings.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from agents import (
    Agent,
    FunctionToolResult,
    Model,
    OpenAIResponsesModel,
    RunConfig,
    RunContextWrapper,
    ToolsToFinalOutputResult,
    set_tracing_disabled,
    set_tracing_export_api_key,
)
from chatkit.agents import AgentContext
from chatkit.types import InferenceOptions
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from openai import AsyncOpenAI

from chat.agent_identity import freeze_identity
from chat.budget import filter_model_input
from chat.context import RequestContext
from chat.inference import chosen_model, model_settings
from chat.offline_model import OfflineModel
from chat.tools import TODO_TOOLS

# A turn rarely needs more than a lookup, a change and an answer.
MAX_TURNS = 8

INSTRUCTIONS = """\
You are a concise assistant that manages the user's todo list through your tools.
- Use the tools for every read or change; never invent todos, ids or results.
- Refer to todos by title, and by #id when titles are ambiguous.
- When a tool returns {"error": ...}, tell the user briefly what went wrong.
- When the user wants to see their todos, call show_todos: they get an interactive
  list (with buttons), so don't repeat it; answer in one short sentence.
- A result with "already_applied" means an earlier attempt at this same message
  made that change: report it as done, never make it again.
- "#12" in the user's message names todo 12 (the user may have tagged it).
- Keep answers short: one or two sentences, or a short bulleted list.
- Dates are YYYY-MM-DD. For a relative date ("today", "tomorrow", a weekday, "next
  week") call get_local_date first and work the date out from its answer; never guess
  today's date. An explicit YYYY-MM-DD needs no call.
- A result with "asked_user" means the user was shown a question; the app acts on
  their answer, so say nothing more.
- Hidden context messages record earlier tool results; use them, but never mention them.
"""


def stop_when_waiting(
    ctx: RunContextWrapper[AgentContext[RequestContext]], results: list[FunctionToolResult]
) -> ToolsToFinalOutputResult:
    """End the run when a tool is waiting on the user: a client tool call (the client
    answers with threads.add_client_tool_output) or a question (a structured input).
    Otherwise the model goes on with the tools' results. The Agents SDK's StopAtTools
    for get_local_date, extended to questions any tool may ask."""
    agent_context = ctx.context
    if agent_context.client_tool_call is not None or agent_context.request_context.awaiting_user:
        return ToolsToFinalOutputResult(is_final_output=True, final_output="")
    return ToolsToFinalOutputResult(is_final_output=False)


@functools.cache
def build_agent() -> Agent[AgentContext[RequestContext]]:
    """The one todo agent (its model is chosen per run, see get_model); never modified."""
    agent = Agent[AgentContext[RequestContext]](
        name="Todo assistant",
        instructions=INSTRUCTIONS,
        tools=list(TODO_TOOLS),
        tool_use_behavior=stop_when_waiting,
    )
    freeze_identity(agent)  # the SDK's per-run signature of it, once (chat/agent_identity.py)
    return agent


@functools.cache
def get_model() -> Model:
    """OpenAI's Responses model when an API key is configured, else the offline model."""
    config = settings.CHATKIT
    if not config["OPENAI_API_KEY"]:
        return OfflineModel()
    return OpenAIResponsesModel(model=config["MODEL"], openai_client=get_openai_client())


@functools.cache
def get_openai_client() -> AsyncOpenAI:
    """The OpenAI client for the configured key, base URL and timeout."""
    config = settings.CHATKIT
    return AsyncOpenAI(
        api_key=config["OPENAI_API_KEY"],
        base_url=config["OPENAI_BASE_URL"] or None,
        timeout=config["MODEL_TIMEOUT_SECONDS"],
        # One retry for a dropped connection; the user can retry beyond that.
        max_retries=1,
    )


def model_label(model: Model | str | None) -> str:
    """The model's name as usage rows and prices know it ("offline" for the built-in one)."""
    if isinstance(model, str):
        return model
    if isinstance(model, OfflineModel):
        return "offline"
    return str(getattr(model, "model", None) or type(model).__name__)


@functools.cache
def get_named_model(name: str) -> Model:
    """A model a message picked from CHATKIT_MODELS (offline: the offline model)."""
    if not settings.CHATKIT["OPENAI_API_KEY"]:
        return get_model()
    return OpenAIResponsesModel(model=name, openai_client=get_openai_client())


def tracing_enabled() -> bool:
    """CHATKIT_TRACING: on by default with an OpenAI key (traces go to OpenAI's
    dashboard with it), `0` off, `1` on (e.g. with your own trace processor)."""
    config = settings.CHATKIT
    wanted = config["TRACING"]
    enabled = bool(config["OPENAI_API_KEY"]) if wanted is None else wanted
    if enabled and config["OPENAI_API_KEY"]:
        set_tracing_export_api_key(config["OPENAI_API_KEY"])
    return enabled


def traced(run_config: RunConfig, *, thread_id: str, user_id: int) -> RunConfig:
    """A run's traces grouped by thread, with its user (an id, nothing personal)."""
    if run_config.tracing_disabled:
        return run_config
    return dataclasses.replace(
        run_config, group_id=thread_id, trace_metadata={"user_id": str(user_id)}
    )


def get_run_config(
    model: Model | None = None, options: InferenceOptions | None = None
) -> RunConfig:
    """Run settings: the given model, else the one the message picked (`options`, see
    chat/inference.py), else the configured one; its forced composer tool; and the
    Agents SDK's tracing as configured (CHATKIT_TRACING; without sensitive data unless
    CHATKIT_TRACE_SENSITIVE_DATA=1: the model's inputs and outputs hold the user's todos)."""
    tracing = tracing_enabled()
    set_tracing_disabled(not tracing)
    picked = chosen_model(options)
    if model is None and picked is not None:
        model = get_named_model(picked)
    return RunConfig(
        model=model or get_model(),
        model_settings=model_settings(options),
        tracing_disabled=not tracing,
        trace_include_sensitive_data=bool(settings.CHATKIT["TRACE_SENSITIVE_DATA"]),
        workflow_name="Todo chat",
        # Every model call's input within the budget (history and tool outputs).
        call_model_input_filter=filter_model_input,
    )


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "CHATKIT":
        get_model.cache_clear()
        get_named_model.cache_clear()
        get_openai_client.cache_clear()
