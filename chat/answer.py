"""A turn's answer, as `respond` streams it: the agent's run (or the chosen answer to a
question of ours), stored while it grows, a card when it fails, and a first turn's title."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing

from agents import MaxTurnsExceeded, Model
from chatkit.agents import AgentContext
from chatkit.errors import CustomStreamError
from chatkit.store import Store
from chatkit.types import (
    ClientEffectEvent,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)
from django.conf import settings
from django.utils import timezone

from chat import choices
from chat.actions import TODOS_CHANGED_EFFECT
from chat.agent_run import build_agent_input, run_agent
from chat.context import RequestContext
from chat.partial_messages import PARTIAL_SAVE_SECONDS, PartialMessages
from chat.provider_errors import provider_failure
from chat.store import DjangoStore
from chat.titles import first_turn_title, offline_title
from chat.widgets import error_card

logger = logging.getLogger(__name__)

# What the user sees when a turn fails; the real error is only logged.
# No "try again" in them: clients add their own retry wording or button (allow_retry).
# (A provider's failures: chat/provider_errors.py.)
MSG_TOO_MANY_STEPS = "That request needed too many steps; a simpler one may work."
MSG_FAILED = "Sorry, something went wrong while answering."


async def answer_events(
    store: Store[RequestContext],
    thread: ThreadMetadata,
    input_user_message: UserMessageItem | None,
    context: RequestContext,
    *,
    model: Model | None,
) -> AsyncIterator[ThreadStreamEvent]:
    """One run of the agent over the thread's history. A failed run keeps what the
    user already saw, adds an error card, and is raised after the closing events.
    `model` None: the configured model (get_model), looked up on every turn."""
    if settings.LOG_MESSAGE_TEXT and input_user_message is not None:  # off by default
        text = " ".join(
            part.text
            for part in input_user_message.content
            if isinstance(part, UserMessageTextContent)
        )
        logger.info("User message", extra={"message_text": text})
    if not thread.title and input_user_message is not None:
        context.title_message = input_user_message  # a first turn: titled at its end
    history = await store.load_thread_items(
        thread.id, None, settings.CHATKIT["HISTORY_ITEMS"], "desc", context
    )
    # threads.add_structured_input: the answer to a question of ours is acted on here.
    answered = choices.answered_choice(history.data) if input_user_message is None else None
    source: AsyncIterator[ThreadStreamEvent]
    if answered is not None:
        source = choices.choice_events(store, thread, *answered, context)
    else:
        agent_input = await build_agent_input(thread, history.data, input_user_message, context)
        agent_context = AgentContext(thread=thread, store=store, request_context=context)
        source = run_agent(agent_context, agent_input, model=model)
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
                        await store.save_item(thread.id, done.item, context)
                    save_at = loop.time() + PARTIAL_SAVE_SECONDS
    except Exception as exc:  # noqa: BLE001 - every failure becomes a card (stream_error)
        failure = stream_error(exc)
    if failure is not None:
        # Keep what the user already saw: the SDK saves these like any done item.
        for done in partial.finished():
            yield done
        # And a card saying it failed, with "Try again", so a reload still shows it.
        yield error_card_event(store, thread, input_user_message, failure.message, context)
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
        use_model = failure is None and titles_by_model(model)
        title = await first_turn_title(first, use_model=use_model)
        if await still_untitled(store, thread, context):
            thread.title = title
    if failure is not None:
        raise failure


def titles_by_model(model: Model | None) -> bool:
    """A real model titles threads (CHATKIT_TITLE_MODEL); else the offline phrase."""
    return model is None and bool(settings.CHATKIT["OPENAI_API_KEY"])


async def still_untitled(
    store: Store[RequestContext], thread: ThreadMetadata, context: RequestContext
) -> bool:
    """No title stored yet: a title the user set meanwhile (threads.update) stays."""
    if not isinstance(store, DjangoStore):
        return not thread.title
    return not await store.stored_title(thread.id, context)


async def title_stopped_turn(
    store: Store[RequestContext], thread: ThreadMetadata, context: RequestContext
) -> None:
    """A first turn stopped before its end still gets its title (the phrase: a stopped
    turn waits for no model); what was streamed the SDK has saved already."""
    first, context.title_message = context.title_message, None
    if first is not None and not thread.title and await still_untitled(store, thread, context):
        thread.title = offline_title(first)
        await store.save_thread(thread, context)


def stream_error(exc: Exception) -> CustomStreamError:
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


def error_card_event(
    store: Store[RequestContext],
    thread: ThreadMetadata,
    message: UserMessageItem | None,
    text: str,
    context: RequestContext,
) -> ThreadItemDoneEvent:
    """The failure's card, stored as the turn's last item; it retries `message`."""
    card = error_card(text, user_message_id=message.id if message is not None else None)
    return ThreadItemDoneEvent(
        item=WidgetItem(
            id=store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=timezone.now(),
            widget=card,
            copy_text=text,
        )
    )
