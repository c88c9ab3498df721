"""Answers to what a turn left waiting: a client tool call, a structured input.

ChatKit's `threads.add_client_tool_output` answers the thread's pending client tool
call, and `threads.add_structured_input` a pending structured input item. When
there is nothing of the kind to answer, the SDK would open a 200 stream and fail
inside it; these checks refuse such requests before any stream (400; a thread or
item that is not the caller's is 404 through NotFoundError), so they are never
counted as a turn.

How a pending item is found (the SDK's own rule, which the continued turn follows):
- a client tool call is the thread's newest item, any item, hidden ones included,
  a `ClientToolCallItem` with status `pending`: a turn that asks the client must end
  with it (nothing written after it);
- a structured input is the item the request names, a `StructuredInputItem` of that
  thread with status `pending`.
"""

from __future__ import annotations

from chatkit.store import Store
from chatkit.types import (
    ClientToolCallItem,
    StructuredInputItem,
    ThreadItem,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
)

from chat.context import RequestContext
from config.exceptions import BadRequest


async def pending_client_tool_call(
    store: Store[RequestContext], thread_id: str, context: RequestContext
) -> ClientToolCallItem | None:
    """The thread's pending client tool call, if its newest item is one."""
    page = await store.load_thread_items(thread_id, None, 1, "desc", context)
    # Read outside the turn lock: the turn reads its thread again under it (chat/recent.py).
    context.recent_items = None
    newest: ThreadItem | None = page.data[0] if page.data else None
    if isinstance(newest, ClientToolCallItem) and newest.status == "pending":
        return newest
    return None


async def check_answer_request(
    store: Store[RequestContext],
    request: ThreadsAddClientToolOutputReq | ThreadsAddStructuredInputReq,
    context: RequestContext,
) -> None:
    """BadRequest unless the request answers something pending in its thread."""
    thread_id = request.params.thread_id
    if isinstance(request, ThreadsAddClientToolOutputReq):
        if await pending_client_tool_call(store, thread_id, context) is None:
            raise BadRequest("This conversation has no client tool call waiting for an answer.")
        return
    item = await store.load_item(thread_id, request.params.item_id, context)  # 404
    if not isinstance(item, StructuredInputItem):
        raise BadRequest("That item is not a question waiting for an answer.")
    if item.status != "pending":
        raise BadRequest("That question has already been answered.")
