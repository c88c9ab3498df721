"""ChatKit events as server-sent events, framed as the SDK frames its own."""

from __future__ import annotations

from pydantic import BaseModel


def sse_event(event: BaseModel) -> bytes:
    """One event as an SSE frame: a `data:` line of its JSON (by alias, no nulls)."""
    return b"data: " + event.model_dump_json(by_alias=True, exclude_none=True).encode() + b"\n\n"
