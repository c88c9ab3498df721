"""The offline model's side of attachments: it names what it was given, and
`add these` with a text or CSV file adds one todo per non-empty line."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from agents.items import TResponseStreamEvent
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
)

from attachments.files import TEXT_TYPES
from attachments.labels import LABEL
from chat.responses_stream import response

ADD_THESE = re.compile(
    r"^\s*(?:please\s+)?(?:add|import)\s+(?:these|them|this|all|those|each(?:\s+line)?)\b",
    re.IGNORECASE,
)
MAX_TODOS = 50
TITLE_MAX_CHARS = 200
_LIST_MARKER = re.compile(r"^(?:[-*+•]\s+|\d+[.)]\s+)?(?:\[[ xX]?\]\s+)?")


@dataclass(frozen=True)
class Attached:
    kind: str
    name: str
    mime_type: str
    text: str  # the file's text as the model saw it ("" for an image)


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _last_user_message(items: Sequence[Any]) -> tuple[int, Any] | None:
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if _get(item, "role") == "user" and _get(item, "type") in (None, "message"):
            return index, item
    return None


def _parts(message: Any) -> tuple[str, list[Attached]]:
    """The typed text of a converted user message and what was attached to it."""
    content = _get(message, "content")
    if isinstance(content, str):
        return content, []
    texts = [_get(part, "text") for part in content or [] if _get(part, "type") == "input_text"]
    typed, attached = (texts[0] or "") if texts else "", []
    for text in texts[1:]:
        match = LABEL.match(text or "")
        if match:
            body = text[match.end() :].partition("\n")[2] if match["kind"] == "file" else ""
            attached.append(Attached(match["kind"], match["name"], match["mime"], body))
    return typed, attached


def todo_titles(attached: Attached) -> list[str]:
    """One title per non-empty line (a CSV row's first non-empty cell)."""
    if attached.mime_type == "text/csv":
        rows = csv.reader(io.StringIO(attached.text))
        lines = [next((cell for cell in row if cell.strip()), "") for row in rows]
    else:
        lines = [_LIST_MARKER.sub("", line.strip(), count=1) for line in attached.text.splitlines()]
    titles = [" ".join(line.split())[:TITLE_MAX_CHARS].strip() for line in lines]
    return [title for title in titles if title and not title.startswith("[… cut")]


def _readable(attached: list[Attached]) -> list[Attached]:
    return [a for a in attached if a.kind == "file" and a.mime_type in TEXT_TYPES]


def todo_calls(items: Sequence[Any]) -> list[ResponseFunctionToolCall]:
    """`add_todo` calls for "add these" sent with text files, as the model's next step."""
    found = _last_user_message(items)
    if found is None or found[0] != len(items) - 1:
        return []  # not the first step of the turn
    typed, attached = _parts(found[1])
    if not attached or not ADD_THESE.match(typed):
        return []
    titles = [title for a in _readable(attached) for title in todo_titles(a)][:MAX_TODOS]
    return [
        ResponseFunctionToolCall(
            id=f"fc_{uuid.uuid4().hex}",
            call_id=f"call_{uuid.uuid4().hex}",
            type="function_call",
            name="add_todo",
            arguments=json.dumps({"title": title}),
            status="completed",
        )
        for title in titles
    ]


def _names(attached: list[Attached]) -> str:
    quoted = [f"“{a.name}”" for a in attached]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _added_titles(items: Sequence[Any]) -> list[str]:
    titles = []
    for item in items:
        if _get(item, "type") != "function_call_output":
            continue
        try:
            todo = json.loads(_get(item, "output") or "{}").get("todo") or {}
        except (ValueError, AttributeError):
            continue
        if todo.get("title"):
            titles.append(todo["title"])
    return titles


def answer(items: Sequence[Any]) -> str | None:
    """The offline model's answer when the turn's message came with attachments."""
    found = _last_user_message(items)
    if found is None:
        return None
    index, message = found
    typed, attached = _parts(message)
    if not attached:
        return None
    if ADD_THESE.match(typed):
        readable = _readable(attached)
        if not readable:
            return f"I got {_names(attached)}, but I can only add todos from text or CSV files."
        titles = _added_titles(items[index + 1 :])
        if not titles:
            return f"I found no lines to add in {_names(readable)}."
        listing = "\n".join(f"- {title}" for title in titles)
        return f"Added {len(titles)} todo(s) from {_names(readable)}:\n{listing}"
    lines = [f"I got {_names(attached)}."]
    if _readable(attached):
        lines.append("Say “add these” to add one todo per line of a text or CSV file.")
    return " ".join(lines)


def stream_calls(
    calls: list[ResponseFunctionToolCall], *, response_id: str
) -> Iterator[TResponseStreamEvent]:
    """A streamed Responses answer made of several tool calls."""
    seq, created_at = itertools.count(), time.time()
    yield ResponseCreatedEvent(
        type="response.created",
        response=response(response_id, [], "in_progress", model="offline", created_at=created_at),
        sequence_number=next(seq),
    )
    for index, call in enumerate(calls):
        yield ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            item=call.model_copy(update={"status": "in_progress"}),
            output_index=index,
            sequence_number=next(seq),
        )
        yield ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            item=call,
            output_index=index,
            sequence_number=next(seq),
        )
    yield ResponseCompletedEvent(
        type="response.completed",
        response=response(
            response_id, list(calls), "completed", model="offline", created_at=created_at
        ),
        sequence_number=next(seq),
    )
