"""Thread items to model input, for one user's turn.

Hidden context and widgets go in as short developer notes; a todo tag (a ChatKit
`input_tag` whose `data.todo_id`, or without it its `id`, names one of the caller's
todos) goes in as that todo, written `#id` in the message like a typed reference;
any other tag is an unknown todo. An item that cannot be converted is degraded and logged, never
allowed to break the thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    HiddenContextItem,
    SDKHiddenContextItem,
    StructuredInputItem,
    ThreadItem,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
)
from openai.types.responses import EasyInputMessageParam, ResponseInputTextParam
from openai.types.responses.response_input_item_param import Message

from accounts.models import User
from attachments.model_input import attachment_input, user_message_input
from chat import choices
from todos import selectors
from todos.exceptions import TodoNotFound
from todos.models import Todo

logger = logging.getLogger(__name__)

# A widget reaches the model as its copy text, cut to this.
MAX_WIDGET_NOTE_CHARS = 4000
MAX_TODO_ID = 2**63 - 1


def plain_message(role: Literal["user", "assistant"], text: str) -> EasyInputMessageParam:
    """A text-only message in the model API's shortest form. The Agents SDK deep-copies
    and walks every input item two or three times per run: a string instead of a list
    of typed parts makes that about 2.5 times cheaper (docs/performance.md)."""
    return EasyInputMessageParam(role=role, content=text)


def note(text: str) -> EasyInputMessageParam:
    """A developer message the user never sees."""
    return EasyInputMessageParam(
        type="message",
        role="developer",
        content=f"Context from earlier in this conversation (not shown to the user):\n{text}",
    )


def tagged_todo_id(tag: UserMessageTagContent) -> int | None:
    """The todo id a tag names: its `data.todo_id`, or without one its `id` (ChatKit's
    Entity, as GET /api/chatkit/entities hands them out); None when it names none."""
    data = tag.data or {}
    value: Any = data.get("todo_id", tag.id)
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    if isinstance(value, int) and 0 < value <= MAX_TODO_ID:
        return value
    return None


class TodoThreadItemConverter(ThreadItemConverter):
    """The SDK's converter, with our notes, todo tags and per-item fault tolerance."""

    def __init__(self, user: User | None = None) -> None:
        self.user = user
        self._todos: dict[int, Todo | None] = {}

    async def hidden_context_to_input(self, item: HiddenContextItem) -> TResponseInputItem:
        if isinstance(item.content, str):
            return note(item.content)
        return note(choices.describe(item.content) or repr(item.content))

    async def structured_input_to_input(self, item: StructuredInputItem) -> TResponseInputItem:
        """A question asked and how it was answered (chat/choices.py acted on it)."""
        lines = []
        for question in item.inputs:
            answer = question.answer
            if item.status == "pending" or answer is None:
                said = "not answered yet"
            elif answer.skipped or not answer.values:
                said = "skipped"
            else:
                said = ", ".join(answer.values)
            lines.append(f"- {question.question} The user's answer: {said}.")
        return note("The user was asked:\n" + "\n".join(lines))

    async def sdk_hidden_context_to_input(self, item: SDKHiddenContextItem) -> TResponseInputItem:
        return note(item.content)

    async def widget_to_input(self, item: WidgetItem) -> TResponseInputItem | None:
        text = item.copy_text or ""
        if not text:
            return None
        if len(text) > MAX_WIDGET_NOTE_CHARS:
            text = text[:MAX_WIDGET_NOTE_CHARS] + "…"
        return note(f"A widget (id {item.id}) was shown to the user:\n{text}")

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        if len(item.content) == 1:  # nearly always: one text part
            return plain_message("assistant", item.content[0].text)
        return await super().assistant_message_to_input(item)

    # --- tags ----------------------------------------------------------------------

    async def _tagged_todo(self, tag: UserMessageTagContent) -> Todo | None:
        todo_id = tagged_todo_id(tag)
        if todo_id is None or self.user is None:
            return None
        if todo_id not in self._todos:
            try:
                self._todos[todo_id] = await selectors.atodo_get(user=self.user, todo_id=todo_id)
            except TodoNotFound:
                self._todos[todo_id] = None
        return self._todos[todo_id]

    async def _tag_reference(self, tag: UserMessageTagContent) -> str:
        """How a tag reads inside the message text."""
        todo = await self._tagged_todo(tag)
        return f"#{todo.pk}" if todo is not None else f"@{tag.text} (unknown todo)"

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputTextParam:
        todo = await self._tagged_todo(tag)
        if todo is None:
            text = f'"@{tag.text}": unknown todo (not one of the user\'s todos).'
        else:
            state = "done" if todo.completed else "open"
            text = f'"@{tag.text}" is todo #{todo.pk} "{todo.title}" ({state}).'
        return ResponseInputTextParam(type="input_text", text=text)

    # --- attachments (attachments/model_input.py) ---------------------------------

    async def attachment_to_message_content(self, attachment: Attachment) -> Any:
        return await attachment_input(attachment)

    async def user_message_to_input(
        self, item: UserMessageItem, is_last_message: bool = True
    ) -> Any:
        return await user_message_input(self._user_message_to_input, item, is_last_message)

    async def _user_message_to_input(
        self, item: UserMessageItem, is_last_message: bool = True
    ) -> list[TResponseInputItem]:
        """The typed text (tags as references) and attachments, then notes."""
        text_parts: list[str] = []
        tags: list[UserMessageTagContent] = []
        for part in item.content:
            if isinstance(part, UserMessageTagContent):
                text_parts.append(await self._tag_reference(part))
                tags.append(part)
            elif isinstance(part, UserMessageTextContent):
                text_parts.append(part.text)
        text = "".join(text_parts)
        message: TResponseInputItem
        if item.attachments:  # typed parts: the text, then one part per attachment
            message = Message(
                role="user",
                type="message",
                content=[
                    ResponseInputTextParam(type="input_text", text=text),
                    *[await self.attachment_to_message_content(a) for a in item.attachments],
                ],
            )
        else:
            message = plain_message("user", text)
        out: list[TResponseInputItem] = [message]
        if item.quoted_text and is_last_message:
            out.append(note(f"The user is referring to this in particular:\n{item.quoted_text}"))
        if tags:
            unique = {tag.id: tag for tag in tags}.values()
            lines = [(await self.tag_to_message_content(tag))["text"] for tag in unique]
            out.append(note("Todos the user tagged in this message:\n" + "\n".join(lines)))
        return out

    # --- fault tolerance -----------------------------------------------------------

    async def to_agent_input(
        self, thread_items: Sequence[ThreadItem] | ThreadItem
    ) -> list[TResponseInputItem]:
        items = list(thread_items) if isinstance(thread_items, Sequence) else [thread_items]
        output: list[TResponseInputItem] = []
        for index, item in enumerate(items):
            try:
                if isinstance(item, UserMessageItem):
                    is_last = index == len(items) - 1
                    converted = await self.user_message_to_input(item, is_last) or []
                    output.extend(converted if isinstance(converted, list) else [converted])
                else:
                    output.extend(await super().to_agent_input(item))
            except Exception:  # one bad item must not break the thread
                logger.warning(
                    "Thread item %s (%s) could not be converted; sending it degraded",
                    item.id,
                    item.type,
                    exc_info=True,
                )
                output.extend(self._degraded(item))
        return output

    @staticmethod
    def _degraded(item: ThreadItem) -> list[TResponseInputItem]:
        """What is left of an item that failed to convert: a user message's plain text."""
        if not isinstance(item, UserMessageItem):
            return []
        text = "".join(
            part.text if isinstance(part, UserMessageTextContent) else f"@{part.text}"
            for part in item.content
        )
        return [plain_message("user", text)]
