"""A thread's title after its first turn (SPEC "ChatKit, complete": Titles).

Offline, a phrase derived from the first message: the todo's title for "add …", the
command and what it names for the others ("Complete walk dog", tags read as their
text), the file's name for a message of attachments alone, the message itself
otherwise. With a real model, a short call to CHATKIT_TITLE_MODEL once the answer's
last event has gone out (the user is reading it); any failure falls back to the phrase,
and a failed or stopped turn waits for no model.
Never "New chat", never a bare command word, at most 60 characters.
"""

from __future__ import annotations

import asyncio
import logging
import re

from chatkit.types import UserMessageItem, UserMessageTagContent, UserMessageTextContent
from django.conf import settings

from chat.offline_model import parse_command

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 60
# The title model's call gets this long (and never longer than the model's own timeout).
TITLE_TIMEOUT_SECONDS = 10.0
# Once the answer has ended, the stream waits this long at most for the model's title.
TITLE_WAIT_SECONDS = 5.0
FALLBACK = "Todo assistant"
# Words that name a command: never a title alone.
COMMAND_WORDS = {
    "add", "list", "show", "complete", "done", "finish", "check", "reopen", "uncheck",
    "delete", "remove", "search", "find", "help", "new chat",
}  # fmt: skip
_ADD = re.compile(r"^add\s+(?P<title>.+?)(?:\s+due\s+(?:on\s+)?\S+)?$", re.IGNORECASE)
_PRONOUNS = {"these", "this", "them", "those", "it", "all", "everything"}
_LISTS = {"open": "Open todos", "all": "All todos", "completed": "Completed todos"}
_VERBS = {"complete_todo": "Complete", "reopen_todo": "Reopen", "delete_todo": "Delete",
          "search_todos": "Search"}  # fmt: skip

TITLE_INSTRUCTIONS = (
    "Write a title of at most six words for a to-do assistant conversation that "
    "starts with the user's message below. Answer with the title only: no quotes, "
    "no final period."
)


def message_text(message: UserMessageItem) -> str:
    """The message on one line, tags read as their text."""
    parts = [
        part.text
        for part in message.content
        if isinstance(part, UserMessageTextContent | UserMessageTagContent)
    ]
    return " ".join("".join(parts).split())


def clip(text: str) -> str:
    """At most TITLE_MAX_CHARS, cut at a word with "…"."""
    text = " ".join(text.split())
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] or text[: TITLE_MAX_CHARS - 1]
    return cut.rstrip(" ,.;:-") + "…"


def _files(message: UserMessageItem) -> str | None:
    names = [attachment.name for attachment in message.attachments if attachment.name]
    if not names:
        return None
    more = len(names) - 1
    return names[0] if not more else f"{names[0]} and {more} more file{'s' * (more > 1)}"


def usable(title: str | None) -> str | None:
    """The title, clipped, unless it is empty, "New chat" or a bare command word."""
    if title is None:
        return None
    title = clip(title.strip().strip("\"'“”").rstrip("."))
    if not title or title.lower().rstrip("…") in COMMAND_WORDS:
        return None
    return title


def offline_title(message: UserMessageItem) -> str:
    """The phrase the first message gives the thread (see the module's docstring)."""
    text = message_text(message)
    files = _files(message)
    if (add := _ADD.match(text)) is not None:
        title = add["title"].strip().strip("\"'")
        if files and title.lower() in _PRONOUNS:
            return clip(f"Todos from {files}")
        return usable(title) or FALLBACK
    if text:
        reply = parse_command(text)
        arguments = reply.arguments or {}
        if reply.tool == "show_todos":
            return _LISTS.get(arguments.get("status", "open"), "Your todos")
        if reply.tool in _VERBS:
            what = arguments.get("ref") or arguments.get("query") or ""
            if usable(what):
                return clip(f"{_VERBS[reply.tool]} {what}")
        if (title := usable(text)) is not None:
            return title
    if files:
        return clip(files)
    return FALLBACK


async def model_title(message: UserMessageItem) -> str | None:
    """The title model's title for the first message; None when it fails or gives
    nothing usable."""
    from chat.agent import get_openai_client  # the model's client: key, base URL

    text = message_text(message)
    files = _files(message)
    prompt = "\n".join(part for part in (text, f"(attached: {files})" if files else "") if part)
    if not prompt:
        return None
    timeout = min(TITLE_TIMEOUT_SECONDS, settings.CHATKIT["MODEL_TIMEOUT_SECONDS"])
    client = get_openai_client().with_options(timeout=timeout, max_retries=0)
    try:
        response = await client.responses.create(
            model=settings.CHATKIT["TITLE_MODEL"],
            instructions=TITLE_INSTRUCTIONS,
            input=prompt[:2000],
            max_output_tokens=24,
            store=False,
        )
    except Exception as exc:  # noqa: BLE001 - a title is never worth failing a turn
        logger.warning("Title model failed: %s", type(exc).__name__)
        return None
    return usable(response.output_text.splitlines()[0] if response.output_text else None)


async def first_turn_title(message: UserMessageItem, *, use_model: bool) -> str:
    """The title a first turn gives its thread once its answer has ended: the title
    model's (waited for at most TITLE_WAIT_SECONDS), else the phrase."""
    if use_model:
        try:
            titled = await asyncio.wait_for(model_title(message), TITLE_WAIT_SECONDS)
        except TimeoutError:
            titled = None
        if titled:
            return titled
    return offline_title(message)
