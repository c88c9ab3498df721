"""The ChatKit server: runs the todo agent for each user message and streams it."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, TypeVar

import openai
from agents import MaxTurnsExceeded, Model, Runner, RunResultStreaming, TResponseInputItem
from chatkit.agents import AgentContext, ThreadItemConverter, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.store import AttachmentStore, Store
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    Attachment,
    AudioInput,
    ChatKitReq,
    ClientEffectEvent,
    HiddenContextItem,
    SDKHiddenContextItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    TranscriptionResult,
    UserMessageItem,
    UserMessageTextContent,
    is_streaming_req,
)
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from openai.types.responses import EasyInputMessageParam
from pydantic import TypeAdapter

from attachments.model_input import attachment_input, label_images
from attachments.store import DjangoAttachmentStore
from attachments.transcribe import transcribe_audio
from chat.agent import MAX_TURNS, build_agent, get_run_config
from chat.context import RequestContext
from chat.store import DjangoStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Built once: the SDK's `process` builds this adapter on every request (~8 ms CPU).
CHATKIT_REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)

TITLE_MAX_CHARS = 60
TODOS_CHANGED_EFFECT = "todos.changed"

# What the user sees when a turn fails; the real error is only logged.
MSG_TIMEOUT = "The assistant took too long to answer. Please try again."
MSG_BUSY = "The assistant is busy right now. Please try again in a moment."
MSG_UNREACHABLE = "The assistant could not be reached. Please try again."
MSG_TOO_MANY_STEPS = "That request needed too many steps. Please try a simpler request."
MSG_FAILED = "Sorry, something went wrong while answering. Please try again."


class TodoThreadItemConverter(ThreadItemConverter):
    """Thread items to model input; hidden context goes in as developer notes."""

    @staticmethod
    def _note(text: str) -> EasyInputMessageParam:
        return EasyInputMessageParam(
            type="message",
            role="developer",
            content=f"Context from earlier in this conversation (not shown to the user):\n{text}",
        )

    async def hidden_context_to_input(self, item: HiddenContextItem) -> TResponseInputItem:
        content = item.content if isinstance(item.content, str) else repr(item.content)
        return self._note(content)

    async def sdk_hidden_context_to_input(self, item: SDKHiddenContextItem) -> TResponseInputItem:
        return self._note(item.content)

    # --- attachments (attachments/model_input.py) ---

    async def attachment_to_message_content(self, attachment: Attachment) -> Any:
        return await attachment_input(attachment)

    async def user_message_to_input(
        self, item: UserMessageItem, is_last_message: bool = True
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        converted = await super().user_message_to_input(item, is_last_message)
        return label_images(converted, item.attachments)


def thread_title(message: UserMessageItem) -> str | None:
    """The first message's text on one line, cut to about 60 characters."""
    text = " ".join(
        " ".join(
            part.text for part in message.content if isinstance(part, UserMessageTextContent)
        ).split()
    )
    if not text:
        return None
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] or text[: TITLE_MAX_CHARS - 1]
    return cut.rstrip(" ,.;:-") + "…"


async def with_idle_timeout(events: AsyncIterator[T], seconds: float) -> AsyncIterator[T]:
    """Re-yield events, raising TimeoutError when the next one takes too long.

    Only the wait for the producer counts, not the time our consumer spends on
    an event (saving it, sending it), so a slow client never trips it.
    """
    iterator = aiter(events)
    while True:
        try:
            async with asyncio.timeout(seconds):
                event = await anext(iterator)
        except StopAsyncIteration:
            return
        yield event


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


class TodoChatKitServer(ChatKitServer[RequestContext]):
    """Answers each user message with one run of the todo agent."""

    converter = TodoThreadItemConverter()

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
            return StreamingResult(self._process_streaming(request, context))
        return NonStreamingResult(await self._process_non_streaming(request, context))

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        config = settings.CHATKIT
        history = await self.store.load_thread_items(
            thread.id, None, config["HISTORY_ITEMS"], "desc", context
        )
        agent_input = await self.converter.to_agent_input(list(reversed(history.data)))
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        result: RunResultStreaming | None = None
        failure: CustomStreamError | None = None
        partial = PartialMessages()
        try:
            result = Runner.run_streamed(
                build_agent(),
                agent_input,
                context=agent_context,
                max_turns=MAX_TURNS,
                run_config=get_run_config(self.model),
            )
            idle_timeout = config["MODEL_TIMEOUT_SECONDS"]
            async with (
                aclosing(stream_agent_response(agent_context, result)) as events,
                aclosing(with_idle_timeout(events, idle_timeout)) as timed_events,
            ):
                async for event in timed_events:
                    partial.track(event)
                    yield event
        except CustomStreamError as exc:
            failure = exc
        except (TimeoutError, openai.APITimeoutError) as exc:
            failure = self._failure(exc, MSG_TIMEOUT)
        except openai.RateLimitError as exc:
            failure = self._failure(exc, MSG_BUSY)
        except openai.APIConnectionError as exc:
            failure = self._failure(exc, MSG_UNREACHABLE)
        except MaxTurnsExceeded as exc:
            failure = self._failure(exc, MSG_TOO_MANY_STEPS)
        except Exception:
            # Anything else is a bug or an unexpected provider answer: log it in full.
            logger.exception("Chat turn failed unexpectedly")
            failure = CustomStreamError(MSG_FAILED, allow_retry=True)
        finally:
            # On a client disconnect (CancelledError) or any failure, stop the
            # model and tools; the SDK then saves what was streamed so far.
            if result is not None and not result.is_complete:
                result.cancel()
        if failure is not None:
            # Keep what the user already saw: the SDK saves these like any done item.
            for done in partial.finished():
                yield done
        # Even a failed turn may have changed todos before it broke off.
        if context.todos_changed:
            yield ClientEffectEvent(name=TODOS_CHANGED_EFFECT, data={})
        # Set last so the title arrives as the turn's last event; the SDK saves it
        # (and sends thread.updated) even when the turn failed.
        if not thread.title and input_user_message is not None:
            thread.title = thread_title(input_user_message)
        if failure is not None:
            raise failure

    async def transcribe(
        self, audio_input: AudioInput, context: RequestContext
    ) -> TranscriptionResult:
        return await transcribe_audio(audio_input)

    @staticmethod
    def _failure(exc: Exception, message: str) -> CustomStreamError:
        """Log the real error; the user gets a friendly, retryable message."""
        logger.error("Chat turn failed: %s", type(exc).__name__, exc_info=exc)
        return CustomStreamError(message, allow_retry=True)


@functools.cache
def get_server() -> TodoChatKitServer:
    """The ChatKit server over our database store (built on first use)."""
    return TodoChatKitServer(store=DjangoStore(), attachment_store=DjangoAttachmentStore())


def warm_up() -> None:
    """Build the server, agent, tools and model at start-up, not on the first
    user's request (that first turn would otherwise take over a second)."""
    import config.urls  # noqa: F401 - imports every view, as the first request would

    get_server()
    build_agent()
    get_run_config()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "CHATKIT":
        get_server.cache_clear()
