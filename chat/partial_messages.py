"""Assistant messages streamed but not finished: stored while they grow, kept if a turn fails."""

from __future__ import annotations

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)

# How often a streaming answer is stored while it grows.
PARTIAL_SAVE_SECONDS = 1.0


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
