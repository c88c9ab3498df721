"""A built-in model for running without an API key: a tiny command parser that
drives the same agent runtime, tools and event stream as a real model."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from agents import ModelResponse, ModelSettings, ModelTracing, Tool, TResponseInputItem, Usage
from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import TResponseOutputItem, TResponseStreamEvent
from agents.models.interface import Model
from django.apps import apps
from django.conf import settings
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)
from openai.types.responses.response_prompt_param import ResponsePromptParam

from chat.responses_stream import stream_events, usage_of

HELP_TEXT = (
    "I can manage your todos. Try:\n"
    "- add <title> (optionally: due today, tomorrow, friday or 2030-01-31)\n"
    "- list (or: show my todos, list all, list completed)\n"
    "- complete <title or #id>\n"
    "- reopen <title or #id>\n"
    "- delete <title or #id>\n"
    "- search <text>"
)
WORDS_PER_CHUNK = 3

# (pattern, tool name, arguments from the match); checked in order. Commands are
# case-insensitive, while titles keep the user's casing.
_ADD = re.compile(r"^add\s+(?P<rest>.+)$", re.IGNORECASE)
_COMMANDS: list[tuple[re.Pattern[str], str, Callable[[re.Match[str]], dict[str, Any]]]] = [
    (
        re.compile(r"^(?:list|show)(?:\s+(?:my\s+)?(?:open\s+)?(?:todos|tasks))?$", re.IGNORECASE),
        "show_todos",
        lambda m: {"status": "open"},
    ),
    (
        re.compile(r"^(?:list|show)\s+all(?:\s+(?:my\s+)?(?:todos|tasks))?$", re.IGNORECASE),
        "show_todos",
        lambda m: {"status": "all"},
    ),
    (
        re.compile(
            r"^(?:list|show)\s+(?:my\s+)?(?:completed|done)(?:\s+(?:todos|tasks))?$", re.IGNORECASE
        ),
        "show_todos",
        lambda m: {"status": "completed"},
    ),
    (
        re.compile(r"^(?:complete|done|finish|check)\s+(?P<rest>.+)$", re.IGNORECASE),
        "complete_todo",
        lambda m: {"ref": _unquote(m["rest"])},
    ),
    (
        re.compile(r"^(?:reopen|uncheck)\s+(?P<rest>.+)$", re.IGNORECASE),
        "reopen_todo",
        lambda m: {"ref": _unquote(m["rest"])},
    ),
    (
        re.compile(r"^(?:delete|remove)\s+(?P<rest>.+)$", re.IGNORECASE),
        "delete_todo",
        lambda m: {"ref": _unquote(m["rest"])},
    ),
    (
        re.compile(r"^(?:search|find)\s+(?P<rest>.+)$", re.IGNORECASE),
        "search_todos",
        lambda m: {"query": _unquote(m["rest"])},
    ),
]


# "add <title> due <when>": today, tomorrow, a weekday (the next one, today
# included) or YYYY-MM-DD. Only an explicit date needs no calendar from the client.
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_DUE = re.compile(
    r"^(?P<title>.+?)\s+due\s+(?:on\s+)?(?P<when>today|tomorrow|"
    + "|".join(_WEEKDAYS)
    + r"|\d{4}-\d{2}-\d{2})$",
    re.IGNORECASE,
)
GET_LOCAL_DATE = "get_local_date"
MSG_NO_DATE = "I couldn't read today's date from your device, so I added nothing."


def due_date_for(when: str, today: datetime.date) -> datetime.date:
    """The day `when` (today, tomorrow or a weekday) names, seen from `today`."""
    when = when.lower()
    if when == "today":
        return today
    if when == "tomorrow":
        return today + datetime.timedelta(days=1)
    return today + datetime.timedelta(days=(_WEEKDAYS.index(when) - today.weekday()) % 7)


def _add(rest: str, today: datetime.date | None) -> Reply:
    """`add …`: the title and its due date; a relative date first asks for the client's day."""
    match = _DUE.match(rest.strip())
    if match is None:
        return Reply(tool="add_todo", arguments={"title": _unquote(rest)})
    title, when = _unquote(match["title"]), match["when"]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
        return Reply(tool="add_todo", arguments={"title": title, "due_date": when})
    if today is None:
        return Reply(tool=GET_LOCAL_DATE, arguments={})
    due = due_date_for(when, today).isoformat()
    return Reply(tool="add_todo", arguments={"title": title, "due_date": due})


def _client_date(output: Any) -> datetime.date | None:
    """The `date` of get_local_date's answer ({"date": "YYYY-MM-DD", "timezone": …})."""
    try:
        data = json.loads(output) if isinstance(output, str) else output
        day = datetime.date.fromisoformat(str(data["date"]))
    except (TypeError, ValueError, KeyError):
        return None
    # A week before the last date there is: "due friday" from it is still a date.
    return day if day <= datetime.date.max - datetime.timedelta(days=7) else None


def _attachments() -> ModuleType | None:
    """chat.offline_attachments, imported on first use; None without Django's apps (the
    benchmark's baseline server runs this model with no Django, and no attachments)."""
    if not apps.ready:
        return None
    from chat import offline_attachments

    return offline_attachments


def _unquote(text: str) -> str:
    text = text.strip().rstrip(".!").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _field(item: Any, name: str) -> Any:
    """Input items are TypedDicts at runtime, but accept models too."""
    if isinstance(item, dict):
        return item.get(name)
    return getattr(item, name, None)


def _message_text(item: Any) -> str:
    content = _field(item, "content")
    if isinstance(content, str):
        return content
    parts = [_field(part, "text") for part in content or []]
    return "".join(part for part in parts if isinstance(part, str))


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Reply:
    """What the offline model answers: a text, or one tool call."""

    text: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] | None = None


def parse_command(text: str, today: datetime.date | None = None) -> Reply:
    """Map one user message to a tool call, or to the help text. `today`: the user's
    calendar day, once the client told it (get_local_date)."""
    normalized = " ".join(text.split()).rstrip(".!?")
    if (add := _ADD.match(normalized)) is not None:
        return _add(add["rest"], today)
    for pattern, tool, arguments in _COMMANDS:
        match = pattern.match(normalized)
        if match:
            return Reply(tool=tool, arguments=arguments(match))
    return Reply(text=HELP_TEXT)


def _todo_line(todo: dict[str, Any]) -> str:
    mark = "[x]" if todo.get("completed") else "[ ]"
    extras = []
    if todo.get("priority") and todo["priority"] != "medium":
        extras.append(f"{todo['priority']} priority")
    if todo.get("due_date"):
        extras.append(f"due {todo['due_date']}")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"- {mark} #{todo['id']} {todo['title']}{suffix}"


def answer_for_tool_output(tool: str | None, arguments: dict[str, Any], output: str) -> str:
    """Phrase a tool's JSON result (or its error) as a short answer."""
    try:
        data = json.loads(output)
    except (TypeError, ValueError):
        return str(output)
    if not isinstance(data, dict):
        return str(output)
    if "error" in data:
        return str(data["error"])
    todo = data.get("todo") or {}
    title = todo.get("title", "")
    match tool:
        case "add_todo":
            due = f", due {todo['due_date']}" if todo.get("due_date") else ""
            return f'Added "{title}" (#{todo.get("id")}){due}.'
        case "complete_todo":
            return f'Marked "{title}" as done.'
        case "reopen_todo":
            return f'Reopened "{title}".'
        case "update_todo":
            return f'Updated "{title}".'
        case "delete_todo":
            return f'Deleted "{title}".'
        case "show_todos":
            # The widget lists them; the answer only introduces it.
            status = data.get("status", "open")
            label = {"open": "open todos", "completed": "completed todos"}.get(status, "todos")
            count = data.get("count", 0)
            if not count:
                return f"You have no {label}."
            shown = data.get("shown", count)
            if shown < count:
                return f"Here are the newest {shown} of your {count} {label}."
            return f"Here are your {label} ({count})."
        case "list_todos" | "search_todos":
            todos = data.get("todos") or []
            if tool == "search_todos":
                heading = f'Todos matching "{arguments.get("query", "")}":'
                empty = f'No todos match "{arguments.get("query", "")}".'
            else:
                status = data.get("status", "open")
                label = {"open": "open todos", "completed": "completed todos"}.get(status, "todos")
                heading, empty = f"Your {label}:", f"You have no {label}."
            if not todos:
                return empty
            lines = [_todo_line(item) for item in todos]
            if data.get("truncated"):
                lines.append(f"…and {data.get('count', 0) - len(todos)} more.")
            return "\n".join([heading, *lines])
    return "Done."


def forced_reply(text: str, tool_choice: Any) -> Reply | None:
    """A composer tool forced on the message (chat/inference.py): the whole message is
    the new todo's title (`add_todo`) or the search (`search_todos`)."""
    text = " ".join(text.split())
    if not text:
        return None
    if tool_choice == "add_todo":
        return Reply(tool="add_todo", arguments={"title": text})
    if tool_choice == "search_todos":
        return Reply(tool="search_todos", arguments={"query": text})
    return None


def decide(input: str | list[TResponseInputItem], tool_choice: Any = None) -> Reply:
    """Choose the next step from the conversation so far (`tool_choice`: a composer
    tool the message forces, until a tool has run)."""
    if isinstance(input, str):
        return forced_reply(input, tool_choice) or parse_command(input)
    items = list(input)
    if not items:
        return Reply(text=HELP_TEXT)
    attachments = _attachments()
    if attachments is not None and (answer := attachments.answer(items)) is not None:
        return Reply(text=answer)  # names the attachments, sums up "add these"
    last = items[-1]
    if _field(last, "type") == "function_call_output":
        call_id = _field(last, "call_id")
        call = next(
            (
                item
                for item in reversed(items)
                if _field(item, "type") == "function_call" and _field(item, "call_id") == call_id
            ),
            None,
        )
        tool = _field(call, "name") if call is not None else None
        try:
            arguments = json.loads(_field(call, "arguments") or "{}") if call is not None else {}
        except ValueError:
            arguments = {}
        output = _field(last, "output")
        if tool == GET_LOCAL_DATE:  # the client's calendar: now the command can run
            today = _client_date(output)
            message = _last_user_text(items)
            if today is None or message is None:
                return Reply(text=MSG_NO_DATE)
            return parse_command(message, today=today)
        return Reply(text=answer_for_tool_output(tool, arguments, output))
    message = _last_user_text(items)
    if message is None:
        return Reply(text=HELP_TEXT)
    return forced_reply(message, tool_choice) or parse_command(message)


def _last_user_text(items: list[Any]) -> str | None:
    for item in reversed(items):
        # Plain user messages only: our hidden context goes in as developer messages.
        if _field(item, "role") == "user" and _field(item, "type") in (None, "message"):
            return _message_text(item)
    return None


def estimated_usage(
    instructions: str | None, input: str | list[TResponseInputItem], output: TResponseOutputItem
) -> Usage:
    """Tokens as a real model would about count them (characters / 4): the offline
    model's usage rows are estimates, flagged as such."""
    sent = len(instructions or "") + len(json.dumps(input, default=str, ensure_ascii=False))
    received = len(output.model_dump_json())
    return Usage(requests=1, input_tokens=sent // 4, output_tokens=received // 4)


def _chunks(text: str, words: int = WORDS_PER_CHUNK) -> list[str]:
    tokens = re.findall(r"\s*\S+\s*", text) or [text]
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


class OfflineModel(Model):
    """Understands a few todo commands; every item gets a fresh id."""

    def __init__(self, token_delay_ms: int | None = None) -> None:
        # None: read the setting on each call, so tests and operators can change it.
        self._token_delay_ms = token_delay_ms

    @property
    def token_delay(self) -> float:
        delay_ms = self._token_delay_ms
        if delay_ms is None:
            delay_ms = settings.CHATKIT["OFFLINE_TOKEN_DELAY_MS"]
        return max(delay_ms, 0) / 1000

    def _output_item(self, reply: Reply) -> TResponseOutputItem:
        if reply.tool is not None:
            return ResponseFunctionToolCall(
                id=_new_id("fc"),
                call_id=_new_id("call"),
                type="function_call",
                name=reply.tool,
                arguments=json.dumps(reply.arguments or {}),
                status="completed",
            )
        return ResponseOutputMessage(
            id=_new_id("msg"),
            type="message",
            role="assistant",
            status="completed",
            content=[
                ResponseOutputText(
                    type="output_text", text=reply.text or "", annotations=[], logprobs=[]
                )
            ],
        )

    @staticmethod
    def _attachment_calls(input: str | list[TResponseInputItem]) -> list[Any]:
        attachments = _attachments()
        if attachments is None or isinstance(input, str):
            return []
        return attachments.todo_calls(input)

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        calls = self._attachment_calls(input)
        # calls: "add these" with a file
        output = calls or [self._output_item(decide(input, model_settings.tool_choice))]
        usage = estimated_usage(system_instructions, input, output[0])
        return ModelResponse(output=output, usage=usage, response_id=_new_id("resp"))

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        calls = self._attachment_calls(input)
        attachments = _attachments()
        if calls and attachments is not None:  # "add these" with a text file: one add_todo per line
            for event in attachments.stream_calls(calls, response_id=_new_id("resp")):
                yield event
            return
        item = self._output_item(decide(input, model_settings.tool_choice))
        chunks: list[str] = []
        if isinstance(item, ResponseOutputMessage):
            part = item.content[0]
            chunks = _chunks(part.text) if isinstance(part, ResponseOutputText) else []
        first_chunk = True
        estimate = estimated_usage(system_instructions, input, item)
        usage = usage_of(estimate.input_tokens, estimate.output_tokens)
        for event in stream_events(item, response_id=_new_id("resp"), chunks=chunks, usage=usage):
            if event.type == "response.output_text.delta":
                # The first chunk goes at once; later ones are paced for demos.
                if not first_chunk and self.token_delay:
                    await asyncio.sleep(self.token_delay)
                first_chunk = False
            yield event
