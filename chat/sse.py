"""ChatKit events as server-sent events, framed as the SDK frames its own."""

from __future__ import annotations

from pydantic import BaseModel

# A stream's response headers: never cached, and not held back by a buffering proxy.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(event: BaseModel) -> bytes:
    """One event as an SSE frame: a `data:` line of its JSON (by alias, no nulls)."""
    return b"data: " + event.model_dump_json(by_alias=True, exclude_none=True).encode() + b"\n\n"
