"""The OpenAI Responses streaming events for one finished output item.

Our offline model streams these to the Agents SDK, and the tests' fake OpenAI
server sends the same events over HTTP, so both speak the real wire shapes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from typing import Any

from agents.items import TResponseOutputItem, TResponseStreamEvent
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)


def response(
    response_id: str,
    output: list[Any],
    status: str,
    *,
    model: str,
    created_at: float,
    usage: ResponseUsage | None = None,
) -> Response:
    return Response(
        usage=usage,
        id=response_id,
        created_at=created_at,
        model=model,
        object="response",
        output=output,
        tool_choice="auto",
        tools=[],
        top_p=None,
        parallel_tool_calls=False,
        status=status,
    )


def _call_events(item: ResponseFunctionToolCall, seq: Iterator[int]) -> Iterator[Any]:
    item_id = item.id or item.call_id
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        item=item.model_copy(update={"arguments": "", "status": "in_progress"}),
        output_index=0,
        sequence_number=next(seq),
    )
    yield ResponseFunctionCallArgumentsDeltaEvent(
        type="response.function_call_arguments.delta",
        item_id=item_id,
        output_index=0,
        delta=item.arguments,
        sequence_number=next(seq),
    )
    yield ResponseFunctionCallArgumentsDoneEvent(
        type="response.function_call_arguments.done",
        item_id=item_id,
        output_index=0,
        arguments=item.arguments,
        sequence_number=next(seq),
    )


def _message_events(
    item: ResponseOutputMessage, chunks: Sequence[str], seq: Iterator[int]
) -> Iterator[Any]:
    part = item.content[0]
    assert isinstance(part, ResponseOutputText)
    where = {"item_id": item.id, "output_index": 0, "content_index": 0}
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        item=item.model_copy(update={"content": [], "status": "in_progress"}),
        output_index=0,
        sequence_number=next(seq),
    )
    yield ResponseContentPartAddedEvent(
        type="response.content_part.added",
        part=part.model_copy(update={"text": ""}),
        sequence_number=next(seq),
        **where,
    )
    for chunk in chunks:
        yield ResponseTextDeltaEvent(
            type="response.output_text.delta",
            delta=chunk,
            logprobs=[],
            sequence_number=next(seq),
            **where,
        )
    yield ResponseTextDoneEvent(
        type="response.output_text.done",
        text=part.text,
        logprobs=[],
        sequence_number=next(seq),
        **where,
    )
    yield ResponseContentPartDoneEvent(
        type="response.content_part.done", part=part, sequence_number=next(seq), **where
    )


def stream_events(
    item: TResponseOutputItem,
    *,
    response_id: str,
    chunks: Sequence[str] = (),
    model: str = "offline",
    usage: ResponseUsage | None = None,
) -> Iterator[TResponseStreamEvent]:
    """created → the item's events (text in `chunks`) → item done → completed (with
    `usage`, the tokens the Agents SDK adds up over a run)."""
    seq, created_at = itertools.count(), time.time()
    yield ResponseCreatedEvent(
        type="response.created",
        response=response(response_id, [], "in_progress", model=model, created_at=created_at),
        sequence_number=next(seq),
    )
    if isinstance(item, ResponseFunctionToolCall):
        yield from _call_events(item, seq)
    elif isinstance(item, ResponseOutputMessage):
        yield from _message_events(item, chunks, seq)
    else:
        raise TypeError(f"Cannot stream a {type(item).__name__}")
    yield ResponseOutputItemDoneEvent(
        type="response.output_item.done", item=item, output_index=0, sequence_number=next(seq)
    )
    yield ResponseCompletedEvent(
        type="response.completed",
        response=response(
            response_id, [item], "completed", model=model, created_at=created_at, usage=usage
        ),
        sequence_number=next(seq),
    )


def usage_of(
    input_tokens: int, output_tokens: int, *, cached_tokens: int = 0, reasoning_tokens: int = 0
) -> ResponseUsage:
    """A Responses API usage block."""
    return ResponseUsage(
        input_tokens=input_tokens,
        input_tokens_details={"cached_tokens": cached_tokens, "cache_write_tokens": 0},
        output_tokens=output_tokens,
        output_tokens_details={"reasoning_tokens": reasoning_tokens},
        total_tokens=input_tokens + output_tokens,
    )
