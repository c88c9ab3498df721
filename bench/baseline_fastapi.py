"""The comparison point: the usual minimal ChatKit server.

FastAPI + uvicorn, a `ChatKitServer` subclass with an in-memory store (the pattern of
chatkit-python's docs and starter samples), and an Agents SDK agent driven by our
offline model, which streams its reply in chunks with `CHATKIT_OFFLINE_TOKEN_DELAY_MS`
between them (the first at once). No database, no auth, no rate limit:
what it costs per turn is the floor our Django app is measured against.

Run: `python -m bench.baseline_fastapi --port 8100` (or `uvicorn bench.baseline_fastapi:app`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from typing import Any

import django
from agents import Agent, Model, OpenAIResponsesModel, RunConfig, Runner, function_tool
from chatkit.agents import AgentContext, simple_to_agent_input, stream_agent_response
from chatkit.server import ChatKitServer, StreamingResult
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    Attachment,
    Page,
    ThreadItem,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from openai import AsyncOpenAI

# The very same fake model as the app's: small talk gets the help text, streamed in
# chunks with the delay between. Its module imports the app's models (attachments), so
# Django is set up first; nothing in the baseline's turns touches Django or a database.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from chat.offline_model import OfflineModel  # noqa: E402

MAX_RECENT_ITEMS = 30


class MemoryStore(Store[dict[str, Any]]):
    """Threads and items in process memory, as in chatkit-python's samples."""

    def __init__(self) -> None:
        self.threads: dict[str, ThreadMetadata] = {}
        self.items: dict[str, list[ThreadItem]] = {}

    async def load_thread(self, thread_id: str, context: dict[str, Any]) -> ThreadMetadata:
        if thread_id not in self.threads:
            raise NotFoundError(f"Thread {thread_id} not found")
        return self.threads[thread_id].model_copy(deep=True)

    async def save_thread(self, thread: ThreadMetadata, context: dict[str, Any]) -> None:
        self.threads[thread.id] = thread.model_copy(deep=True)
        self.items.setdefault(thread.id, [])

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: dict[str, Any]
    ) -> Page[ThreadMetadata]:
        threads = sorted(self.threads.values(), key=lambda t: t.created_at, reverse=order == "desc")
        return _page(threads, after, limit)

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: dict[str, Any]
    ) -> Page[ThreadItem]:
        items = self.items.get(thread_id, [])
        ordered = list(reversed(items)) if order == "desc" else list(items)
        return _page(ordered, after, limit)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: dict[str, Any]
    ) -> None:
        self.items.setdefault(thread_id, []).append(item.model_copy(deep=True))

    async def save_item(self, thread_id: str, item: ThreadItem, context: dict[str, Any]) -> None:
        items = self.items.setdefault(thread_id, [])
        for index, existing in enumerate(items):
            if existing.id == item.id:
                items[index] = item.model_copy(deep=True)
                return
        items.append(item.model_copy(deep=True))

    async def load_item(self, thread_id: str, item_id: str, context: dict[str, Any]) -> ThreadItem:
        for item in self.items.get(thread_id, []):
            if item.id == item_id:
                return item.model_copy(deep=True)
        raise NotFoundError(f"Item {item_id} not found")

    async def delete_thread(self, thread_id: str, context: dict[str, Any]) -> None:
        self.threads.pop(thread_id, None)
        self.items.pop(thread_id, None)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: dict[str, Any]
    ) -> None:
        self.items[thread_id] = [i for i in self.items.get(thread_id, []) if i.id != item_id]

    async def save_attachment(self, attachment: Attachment, context: dict[str, Any]) -> None:
        raise NotImplementedError

    async def load_attachment(self, attachment_id: str, context: dict[str, Any]) -> Attachment:
        raise NotImplementedError

    async def delete_attachment(self, attachment_id: str, context: dict[str, Any]) -> None:
        raise NotImplementedError


def _page(rows: list[Any], after: str | None, limit: int) -> Page[Any]:
    start = 0
    if after:
        start = next((i + 1 for i, row in enumerate(rows) if row.id == after), 0)
    data = rows[start : start + limit]
    has_more = start + limit < len(rows)
    return Page(data=data, has_more=has_more, after=data[-1].id if data and has_more else None)


TODOS: list[dict[str, str]] = []


@function_tool
def add_todo(title: str, priority: str = "medium") -> dict[str, str]:
    """Add a todo to the list (in memory, like the samples' stores)."""
    todo = {"title": title, "priority": priority}
    TODOS.append(todo)
    return todo


def baseline_model(delay_ms: int) -> Model:
    """The offline model, or OpenAI's Responses model when OPENAI_API_KEY is set (the
    benchmark points OPENAI_BASE_URL at its fake Responses server)."""
    if not os.environ.get("OPENAI_API_KEY"):
        return OfflineModel(token_delay_ms=delay_ms)
    client = AsyncOpenAI(base_url=os.environ.get("OPENAI_BASE_URL") or None, max_retries=1)
    return OpenAIResponsesModel(model="gpt-4.1-mini", openai_client=client)


class BaselineServer(ChatKitServer[dict[str, Any]]):
    def __init__(self, delay_ms: int) -> None:
        self.memory = MemoryStore()
        super().__init__(self.memory)
        self.agent = Agent[AgentContext[dict[str, Any]]](
            name="Assistant",
            instructions="You help the user manage todos.",
            tools=[add_todo],
            model=baseline_model(delay_ms),
        )

    async def respond(
        self, thread: ThreadMetadata, item: UserMessageItem | None, context: dict[str, Any]
    ) -> AsyncIterator[ThreadStreamEvent]:
        page = await self.store.load_thread_items(
            thread.id, None, MAX_RECENT_ITEMS, "desc", context
        )
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        agent_input = await simple_to_agent_input(list(reversed(page.data)))
        # Tracing off, as in the app (it would export to OpenAI otherwise).
        result = Runner.run_streamed(
            self.agent,
            agent_input,
            context=agent_context,
            run_config=RunConfig(tracing_disabled=True),
        )
        async for event in stream_agent_response(agent_context, result):
            yield event


def create_app() -> FastAPI:
    delay_ms = int(os.environ.get("CHATKIT_OFFLINE_TOKEN_DELAY_MS", "0") or 0)
    server = BaselineServer(delay_ms)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/chatkit")
    async def chatkit_endpoint(request: Request) -> Response:
        result = await server.process(await request.body(), {})
        if isinstance(result, StreamingResult):
            return StreamingResponse(result, media_type="text/event-stream")
        return Response(content=result.json, media_type="application/json")

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"error": {"code": "not_found", "message": "Not found."}}, 404)

    return app


app = create_app()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
