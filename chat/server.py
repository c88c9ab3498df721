"""The ChatKit server: runs the todo agent for each user message and streams it."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from agents import MaxTurnsExceeded, Model, Runner, RunResultStreaming, TResponseInputItem
from chatkit.actions import Action
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import (
    DEFAULT_PAGE_SIZE,
    ChatKitServer,
    NonStreamingReq,
    NonStreamingResult,
    StreamingResult,
)
from chatkit.store import AttachmentStore, NotFoundError, Store
from chatkit.types import (
    ActiveStatus,
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    AudioInput,
    ChatKitReq,
    ClientEffectEvent,
    FeedbackKind,
    ItemsListReq,
    LockedStatus,
    Page,
    StreamingReq,
    SyncCustomActionResponse,
    ThreadCreatedEvent,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    ThreadsUpdateReq,
    ThreadUpdatedEvent,
    TranscriptionResult,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
    is_streaming_req,
)
from chatkit.types import Thread as ThreadResponse
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from pydantic import TypeAdapter

from chat import choices, recovery
from chat.actions import (
    TODOS_CHANGED_EFFECT,
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
from chat.agent import MAX_TURNS, build_agent, get_run_config, model_label, traced
from chat.attachment_store import DjangoAttachmentStore
from chat.context import RequestContext
from chat.converter import TodoThreadItemConverter
from chat.idle_timeout import with_idle_timeout
from chat.ledger import TurnLedger, already_applied_notes
from chat.live import ThreadChange, publish_thread_change
from chat.models import Thread
from chat.models import ThreadItem as ThreadItemRow
from chat.offline_model import OfflineModel
from chat.provider_errors import (  # noqa: F401 - the messages, for the server's readers
    MSG_BUSY,
    MSG_TIMEOUT,
    MSG_UNREACHABLE,
    provider_failure,
)
from chat.services import feedback_record
from chat.store import DjangoStore
from chat.titles import first_turn_title, offline_title
from chat.transcribe import transcribe_audio
from chat.turns import one_turn_at_a_time, turn_locks
from chat.widgets import CHAT_RETRY, error_card
from config import logcontext, pg
from config.db import run_sync
from todos.exceptions import TodoNotFound
from usage import metrics
from usage.quota import claim
from usage.services import error_kind_of, turn_record

logger = logging.getLogger(__name__)

# Built once: the SDK's `process` builds this adapter on every request (~8 ms CPU).
CHATKIT_REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)

# How often a streaming answer is stored while it grows.
PARTIAL_SAVE_SECONDS = 1.0

# What the user sees when a turn fails; the real error is only logged.
# No "try again" in them: clients add their own retry wording or button (allow_retry).
# (A provider's failures: chat/provider_errors.py.)
MSG_TOO_MANY_STEPS = "That request needed too many steps; a simpler one may work."
# A thread's status while a turn runs in it (another tab, a reload mid-answer).
MSG_ANSWERING = "Still answering. The reply appears here as it is written."
MSG_FAILED = "Sorry, something went wrong while answering."


class PartialMessages:
    """Assistant messages streamed but not finished, kept to be saved if a turn fails."""

    def __init__(self) -> None:
        self._items: dict[str, AssistantMessageItem] = {}

    def track(self, event: ThreadStreamEvent) -> None:
        match event:
            case ThreadItemAddedEvent(item=AssistantMessageItem() as item):
                self._items[item.id] = item.model_copy(deep=True)
            case ThreadItemDoneEvent(item=item):
                self._items.pop(item.id, None)
            case ThreadItemUpdatedEvent(item_id=item_id, update=update) if item_id in self._items:
                content = self._items[item_id].content
                index = getattr(update, "content_index", None)
                if index is None:
                    return
                while len(content) <= index:
                    content.append(AssistantMessageContent(text=""))
                match update:
                    case AssistantMessageContentPartTextDelta(delta=delta):
                        content[index].text += delta
                    case AssistantMessageContentPartAdded(content=part) | (
                        AssistantMessageContentPartDone(content=part)
                    ):
                        content[index] = part.model_copy(deep=True)

    def finished(self) -> list[ThreadItemDoneEvent]:
        """Done events for the partial messages that hold some text."""
        return [
            ThreadItemDoneEvent(item=item)
            for item in self._items.values()
            if any(part.text.strip() for part in item.content)
        ]


async def mark_answering(threads: Sequence[ThreadMetadata], context: RequestContext) -> set[str]:
    """Threads with a turn going (on any worker: its turn lock is held) read as locked,
    so ChatKit disables their composer with the reason; the stored status is untouched.
    A lock that looks a dead turn's is finished here (chat/recovery.py): the ids of the
    threads that were, whose items and title changed since they were read."""
    locks = await turn_locks([thread.id for thread in threads])
    finished: set[str] = set()
    for thread in threads:
        value = locks.get(thread.id)
        if value is None:
            continue
        if await recovery.finish_held(thread.id, context.user.pk, value):
            finished.add(thread.id)
        elif isinstance(thread.status, ActiveStatus):
            thread.status = LockedStatus(reason=MSG_ANSWERING)
    return finished


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

    async def _process_streaming_impl(
        self, request: StreamingReq, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """The SDK's events; a new thread, a user's message (its turn has begun) and a
        title are announced on the user's socket (chat/live.py), for their other tabs."""
        thread_id: str | None = getattr(request.params, "thread_id", None)
        async for event in super()._process_streaming_impl(request, context):
            reason: ThreadChange | None = None
            match event:
                case ThreadCreatedEvent(thread=created):
                    thread_id, reason = created.id, "created"
                case ThreadItemDoneEvent(item=UserMessageItem()):
                    reason = "item"
                case ThreadUpdatedEvent():
                    reason = "title"
            yield event
            if reason is not None and thread_id is not None:
                publish_thread_change(user_id=context.user.pk, thread_id=thread_id, reason=reason)

    async def check_thread(self, request: ChatKitReq, context: RequestContext) -> None:
        """Load the request's thread, if it names one: NotFoundError when it isn't the
        user's. (Its history is read later, under the turn lock: a turn that waited
        for another must see that one's answer.)"""
        thread_id: str | None = getattr(request.params, "thread_id", None)
        if thread_id is not None:
            context.checked_thread = await self.store.load_thread(thread_id, context)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """One run of the agent over the thread's history. A failed run keeps what the
        user already saw, adds an error card, and is raised after the closing events."""
        if settings.LOG_MESSAGE_TEXT and input_user_message is not None:  # off by default
            text = " ".join(
                part.text
                for part in input_user_message.content
                if isinstance(part, UserMessageTextContent)
            )
            logger.info("User message", extra={"message_text": text})
        if not thread.title and input_user_message is not None:
            context.title_message = input_user_message  # a first turn: titled at its end
        history = await self.store.load_thread_items(
            thread.id, None, settings.CHATKIT["HISTORY_ITEMS"], "desc", context
        )
        # threads.add_structured_input: the answer to a question of ours is acted on here.
        answered = choices.answered_choice(history.data) if input_user_message is None else None
        source: AsyncIterator[ThreadStreamEvent]
        if answered is not None:
            source = choices.choice_events(self.store, thread, *answered, context)
        else:
            agent_input = await self._agent_input(thread, history.data, input_user_message, context)
            agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
            source = self._run_agent(agent_context, agent_input)
        partial = PartialMessages()
        failure: CustomStreamError | None = None
        try:
            # The answer so far is stored about once a second, so a reload (or a
            # worker that dies) finds nearly what was streamed.
            loop = asyncio.get_running_loop()
            save_at = loop.time() + PARTIAL_SAVE_SECONDS
            async with aclosing(source) as events:
                async for event in events:
                    partial.track(event)
                    yield event
                    if loop.time() >= save_at:
                        for done in partial.finished():
                            await self.store.save_item(thread.id, done.item, context)
                        save_at = loop.time() + PARTIAL_SAVE_SECONDS
        except Exception as exc:  # noqa: BLE001 - every failure becomes a card (_stream_error)
            failure = self._stream_error(exc)
        if failure is not None:
            # Keep what the user already saw: the SDK saves these like any done item.
            for done in partial.finished():
                yield done
            # And a card saying it failed, with "Try again", so a reload still shows it.
            yield self._error_card(thread, input_user_message, failure.message, context)
            if input_user_message is not None:
                # One retry control per failure: the card's (it survives a reload), so
                # the error event offers none of its own.
                failure = CustomStreamError(failure.message, allow_retry=False)
        # Even a failed turn may have changed todos before it broke off.
        if context.todos_changed:
            yield ClientEffectEvent(name=TODOS_CHANGED_EFFECT, data={})
        # Set last so the title arrives as the turn's last event; the SDK saves it
        # (and sends thread.updated) even when the turn failed.
        first, context.title_message = context.title_message, None
        if first is not None:
            use_model = failure is None and self._titles_by_model()
            title = await first_turn_title(first, use_model=use_model)
            if await self._untitled(thread, context):
                thread.title = title
        if failure is not None:
            raise failure

    def _titles_by_model(self) -> bool:
        """A real model titles threads (CHATKIT_TITLE_MODEL); else the offline phrase."""
        return self.model is None and bool(settings.CHATKIT["OPENAI_API_KEY"])

    async def _untitled(self, thread: ThreadMetadata, context: RequestContext) -> bool:
        """No title stored yet: a title the user set meanwhile (threads.update) stays."""
        if not isinstance(self.store, DjangoStore):
            return not thread.title
        return not await self.store.stored_title(thread.id, context)

    async def handle_stream_cancelled(
        self, thread: ThreadMetadata, pending_items: list[ThreadItem], context: RequestContext
    ) -> None:
        """The SDK's (what was streamed is saved), and a first turn stopped before its
        end still gets its title (the phrase: a stopped turn waits for no model)."""
        await super().handle_stream_cancelled(thread, pending_items, context)
        first, context.title_message = context.title_message, None
        if first is not None and not thread.title and await self._untitled(thread, context):
            thread.title = offline_title(first)
            await self.store.save_thread(thread, context)

    async def _agent_input(
        self,
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

    async def _run_agent(
        self, agent_context: AgentContext[RequestContext], agent_input: list[TResponseInputItem]
    ) -> AsyncIterator[ThreadStreamEvent]:
        """The agent's events, cut off after the configured silence from the model."""
        result: RunResultStreaming | None = None
        run_config = traced(
            get_run_config(self.model, agent_context.request_context.inference_options),
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

    @staticmethod
    def _stream_error(exc: Exception) -> CustomStreamError:
        """The user's message for a failed run (retryable); the real error is logged."""
        if isinstance(exc, CustomStreamError):
            return exc
        if (failure := provider_failure(exc)) is not None:
            logger.error("Chat turn failed: the model's provider: %s", type(exc).__name__,
                         exc_info=exc)  # fmt: skip
            return CustomStreamError(failure.message, allow_retry=failure.allow_retry)
        if isinstance(exc, MaxTurnsExceeded):
            logger.error("Chat turn failed: %s", type(exc).__name__, exc_info=exc)
            return CustomStreamError(MSG_TOO_MANY_STEPS, allow_retry=True)
        # Anything else is a bug: log it in full.
        logger.error("Chat turn failed unexpectedly", exc_info=exc)
        return CustomStreamError(MSG_FAILED, allow_retry=True)

    def _error_card(
        self,
        thread: ThreadMetadata,
        message: UserMessageItem | None,
        text: str,
        context: RequestContext,
    ) -> ThreadItemDoneEvent:
        card = error_card(text, user_message_id=message.id if message is not None else None)
        return ThreadItemDoneEvent(
            item=WidgetItem(
                id=self.store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=timezone.now(),
                widget=card,
                copy_text=text,
            )
        )

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
