"""The ChatKit server: runs the todo agent for each user message and streams it
(the SDK's hooks; a turn's answer itself is chat/answer.py)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

from agents import Model
from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.logger import logger as sdk_logger
from chatkit.server import (
    DEFAULT_PAGE_SIZE,
    ChatKitServer,
    NonStreamingReq,
    NonStreamingResult,
    StreamingResult,
)
from chatkit.store import AttachmentStore, NotFoundError, Store
from chatkit.types import (
    AudioInput,
    ChatKitReq,
    FeedbackKind,
    ItemsListReq,
    Page,
    StreamingReq,
    SyncCustomActionResponse,
    ThreadCreatedEvent,
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    ThreadsUpdateReq,
    ThreadUpdatedEvent,
    TranscriptionResult,
    UserMessageItem,
    WidgetItem,
    is_streaming_req,
)
from chatkit.types import Thread as ThreadResponse
from django.core.signals import setting_changed
from django.dispatch import receiver
from pydantic import TypeAdapter

from chat import recovery
from chat.actions import (
    ActionInvalid,
    CreatePayload,
    MorePayload,
    RetryPayload,
    create_events,
    more_events,
    parse_action,
    retry_events,
    todo_action_events,
)
from chat.agent import build_agent, get_run_config
from chat.answer import answer_events, title_stopped_turn
from chat.attachment_store import DjangoAttachmentStore
from chat.context import RequestContext
from chat.live import ThreadChange, publish_thread_change
from chat.models import Thread
from chat.models import ThreadItem as ThreadItemRow
from chat.services import feedback_record
from chat.store import DjangoStore
from chat.thread_status import mark_answering
from chat.transcribe import transcribe_audio
from chat.turns import one_turn_at_a_time
from chat.widgets import CHAT_RETRY
from config import pg
from config.db import run_sync
from todos.exceptions import TodoNotFound

# Built once: the SDK's `process` builds this adapter on every request (~8 ms CPU).
CHATKIT_REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)


class TodoChatKitServer(ChatKitServer[RequestContext]):
    """Answers each user message with one run of the todo agent."""

    def __init__(
        self,
        store: Store[RequestContext],
        attachment_store: AttachmentStore[RequestContext] | None = None,
        *,
        model: Model | None = None,
    ) -> None:
        super().__init__(store, attachment_store)
        # None: the configured model (get_model), looked up on every turn.
        self.model = model

    async def process(
        self, request: str | bytes | bytearray, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        return await self.process_request(CHATKIT_REQUEST.validate_json(request), context)

    async def process_request(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """`process` for a request the caller has already validated."""
        if is_streaming_req(request):
            # A retry runs its user message again: the tools consult the ledger.
            context.rerun = isinstance(request, ThreadsRetryAfterItemReq)
            stream = functools.partial(self._process_streaming, request, context)
            return StreamingResult(one_turn_at_a_time(self.store, request, context, stream))
        return NonStreamingResult(await self._process_non_streaming(request, context))

    async def _process_non_streaming(
        self, request: NonStreamingReq, context: RequestContext
    ) -> bytes:
        """The SDK's answers, except that a client's pages of items hold `limit`
        visible items: the SDK drops hidden context after reading a page, so enough
        of it left a page empty with `has_more` true."""
        store = self.store
        if isinstance(store, DjangoStore):
            match request:
                case ItemsListReq(params=params):
                    await recovery.recover(params.thread_id, context.user.pk)
                    page = await store.load_visible_items(
                        params.thread_id, params.after, params.limit or DEFAULT_PAGE_SIZE,
                        params.order, context,
                    )  # fmt: skip
                    return self._serialize(page)
                case ThreadsGetByIdReq(params=params):
                    full = await self._thread_with_items(store, params.thread_id, context)
                    if await mark_answering([full], context):  # a dead turn, just finished
                        context.checked_thread = None  # its title may be new too
                        full = await self._thread_with_items(store, params.thread_id, context)
                    return self._serialize(self._to_thread_response(full))
        if isinstance(request, ThreadsUpdateReq):
            answer = await super()._process_non_streaming(request, context)
            publish_thread_change(
                user_id=context.user.pk, thread_id=request.params.thread_id, reason="title"
            )
            return answer
        if isinstance(request, ThreadsListReq):
            params = request.params
            threads = await store.load_threads(
                params.limit or DEFAULT_PAGE_SIZE, params.after, params.order, context
            )
            await mark_answering(threads.data, context)
            data = [self._to_thread_response(thread) for thread in threads.data]
            return self._serialize(Page(has_more=threads.has_more, after=threads.after, data=data))
        return await super()._process_non_streaming(request, context)

    @staticmethod
    async def _thread_with_items(
        store: DjangoStore, thread_id: str, context: RequestContext
    ) -> ThreadResponse:
        thread = await store.load_thread(thread_id, context)
        items = await store.load_visible_items(thread_id, None, DEFAULT_PAGE_SIZE, "asc", context)
        return ThreadResponse(**thread.model_dump(), items=items)

    async def _process_streaming(
        self, request: StreamingReq, context: RequestContext
    ) -> AsyncIterator[bytes]:
        """The SDK's events as SSE bytes (its own `_process_streaming`, with its error
        log); a new thread, a user's message (its turn has begun) and a title are
        announced on the user's socket (chat/live.py), for their other tabs. One
        generator for both: a second one around the SDK's events cost a resumption
        per event (docs/performance.md, "Runs: the cost of detaching, third pass")."""
        thread_id: str | None = getattr(request.params, "thread_id", None)
        try:
            async for event in self._process_streaming_impl(request, context):
                reason: ThreadChange | None = None
                match event:
                    case ThreadCreatedEvent(thread=created):
                        thread_id, reason = created.id, "created"
                    case ThreadItemDoneEvent(item=UserMessageItem()):
                        reason = "item"
                    case ThreadUpdatedEvent():
                        reason = "title"
                yield b"data: " + self._serialize(event) + b"\n\n"
                if reason is not None and thread_id is not None:
                    publish_thread_change(
                        user_id=context.user.pk, thread_id=thread_id, reason=reason
                    )
        except asyncio.CancelledError:
            raise  # a stopped turn: not an error (as the SDK's)
        except Exception:
            sdk_logger.exception("Error while generating streamed response")
            raise

    async def check_thread(self, request: ChatKitReq, context: RequestContext) -> None:
        """Load the request's thread, if it names one: NotFoundError when it isn't the
        user's. (Its history is read later, under the turn lock: a turn that waited
        for another must see that one's answer.)"""
        thread_id: str | None = getattr(request.params, "thread_id", None)
        if thread_id is not None:
            context.checked_thread = await self.store.load_thread(thread_id, context)

    def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """One run of the agent over the thread's history (chat/answer.py)."""
        return answer_events(self.store, thread, input_user_message, context, model=self.model)

    async def handle_stream_cancelled(
        self, thread: ThreadMetadata, pending_items: list[ThreadItem], context: RequestContext
    ) -> None:
        """The SDK's (what was streamed is saved), and a stopped first turn's title."""
        await super().handle_stream_cancelled(thread, pending_items, context)
        await title_stopped_turn(self.store, thread, context)

    # --- widget actions ------------------------------------------------------------

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """One handler per action type (chat/actions.py); a bad one is an error event."""
        try:
            payload = parse_action(action)
        except ActionInvalid as exc:
            raise CustomStreamError(exc.message, allow_retry=False) from None
        match payload:
            case RetryPayload():
                events = retry_events(self.store, self.respond, thread, payload, sender, context)
            case CreatePayload():
                events = create_events(self.store, thread, payload, sender, context)
            case MorePayload():
                events = more_events(payload, sender, context)
            case _:
                events = todo_action_events(
                    self.store, thread, action.type, payload, sender, context
                )
        async for event in events:
            yield event

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> SyncCustomActionResponse:
        """The same todo actions answered as JSON (the updated widget); no client
        effect can travel in it, but the live /ws/todos/ event does."""
        if action.type == CHAT_RETRY:
            raise ActionInvalid("'chat.retry' needs threads.custom_action (it streams).")
        updated: ThreadItem | None = None
        try:
            async for event in self.action(thread, action, sender, context):
                if isinstance(event, ThreadItemReplacedEvent):
                    await self.store.save_item(thread.id, event.item, context)
                    updated = event.item
                elif isinstance(event, ThreadItemDoneEvent):
                    await self.store.add_thread_item(thread.id, event.item, context)
        except CustomStreamError as exc:
            raise TodoNotFound(exc.message) from None
        return SyncCustomActionResponse(updated_item=updated)

    async def add_feedback(
        self,
        thread_id: str,
        item_ids: list[str],
        feedback: FeedbackKind,
        context: RequestContext,
    ) -> None:
        try:
            await run_sync(
                feedback_record,
                user=context.user,
                thread_id=thread_id,
                item_ids=item_ids,
                kind=feedback,
            )
        except (Thread.DoesNotExist, ThreadItemRow.DoesNotExist):
            raise NotFoundError(f"Thread {thread_id} or its item not found") from None

    async def transcribe(
        self, audio_input: AudioInput, context: RequestContext
    ) -> TranscriptionResult:
        return await transcribe_audio(audio_input)


def make_store() -> DjangoStore:
    """The database store: on PostgreSQL, with a turn's own calls on async connections."""
    if pg.enabled():
        from chat.pgstore import AsyncPostgresStore

        return AsyncPostgresStore()
    return DjangoStore()


@functools.cache
def get_server() -> TodoChatKitServer:
    """The ChatKit server over our database store (built on first use)."""
    return TodoChatKitServer(store=make_store(), attachment_store=DjangoAttachmentStore())


def warm_up() -> None:
    """Build the server, agent, tools and model at start-up, not on the first
    user's request (that first turn would otherwise take over a second)."""
    import config.urls  # noqa: F401 - imports every view, as the first request would

    get_server()
    build_agent()
    get_run_config()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CHATKIT", "DATABASES"):
        get_server.cache_clear()
