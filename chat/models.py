"""Chat persistence: ChatKit threads and their items, per user (attachments: the
`attachments` app)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

# Ids are opaque strings chosen by ChatKit (or a client); 255 leaves room for long ones.
ID_MAX_LENGTH = 255


def new_thread_id() -> str:
    """A fresh thread id in ChatKit's style: "thr_" + 32 hex digits."""
    return f"thr_{uuid.uuid4().hex}"


class ItemType(models.TextChoices):
    """The ChatKit thread item variants (the `type` discriminator of `ThreadItem`)."""

    USER_MESSAGE = "user_message", "User message"
    ASSISTANT_MESSAGE = "assistant_message", "Assistant message"
    CLIENT_TOOL_CALL = "client_tool_call", "Client tool call"
    WIDGET = "widget", "Widget"
    GENERATED_IMAGE = "generated_image", "Generated image"
    STRUCTURED_INPUT = "structured_input", "Structured input"
    WORKFLOW = "workflow", "Workflow"
    TASK = "task", "Task"
    HIDDEN_CONTEXT = "hidden_context_item", "Hidden context"
    SDK_HIDDEN_CONTEXT = "sdk_hidden_context", "SDK hidden context"
    END_OF_TURN = "end_of_turn", "End of turn"


class ThreadQuerySet(models.QuerySet["Thread"]):
    def for_user(self, user: models.Model) -> ThreadQuerySet:
        return self.filter(owner=user)


class Thread(models.Model):
    """A conversation; its ChatKit `ThreadMetadata` lives in these columns."""

    id = models.CharField(primary_key=True, max_length=ID_MAX_LENGTH, default=new_thread_id)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_threads"
    )
    # None (not "") while the thread has no title yet, as in ChatKit.
    title = models.TextField(null=True, blank=True)
    status = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    allowed_image_domains = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Last activity: bumped by every item written; the retention purge reads it.
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ThreadQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # Listing a user's threads by (created_at, id) cursor, both directions.
            models.Index(fields=["owner", "created_at", "id"], name="chat_thread_owner_created"),
            models.Index(fields=["updated_at"], name="chat_thread_updated"),
        ]

    def __str__(self) -> str:
        return self.title or self.id


# Items the model reads but a client never sees (ChatKit strips them from every page).
HIDDEN_ITEM_TYPES = frozenset({ItemType.HIDDEN_CONTEXT, ItemType.SDK_HIDDEN_CONTEXT})


def is_visible_type(item_type: str) -> bool:
    return item_type not in HIDDEN_ITEM_TYPES


class ThreadItemQuerySet(models.QuerySet["ThreadItem"]):
    def for_user(self, user: models.Model) -> ThreadItemQuerySet:
        return self.filter(thread__owner=user)


class ThreadItem(models.Model):
    """One ChatKit thread item, stored whole as JSON in `data`."""

    # The insertion sequence: breaks ties between items with equal timestamps.
    seq = models.BigAutoField(primary_key=True)
    item_id = models.CharField(max_length=ID_MAX_LENGTH)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="items")
    type = models.CharField(max_length=32, choices=ItemType.choices)
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()
    # False for hidden context: a client's pages (items.list, threads.get_by_id) are
    # read through a partial index of the visible items alone, so 100 widget clicks'
    # hidden notes never take a page's place.
    visible = models.BooleanField(default=True)

    objects = ThreadItemQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["thread", "item_id"], name="chat_item_unique_id"),
        ]
        indexes = [
            models.Index(fields=["thread", "created_at", "seq"], name="chat_item_thread_order"),
            models.Index(
                fields=["thread", "created_at", "seq"],
                condition=models.Q(visible=True),
                name="chat_item_visible_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} ({self.type})"

    @property
    def speaker(self) -> str:
        """Who produced the item, for people reading it (the admin)."""
        return {
            ItemType.USER_MESSAGE: "User",
            ItemType.ASSISTANT_MESSAGE: "Assistant",
            ItemType.HIDDEN_CONTEXT: "Tool effect",
            ItemType.SDK_HIDDEN_CONTEXT: "System",
            ItemType.CLIENT_TOOL_CALL: "Tool call",
        }.get(self.type, "Assistant")

    @property
    def text(self) -> str:
        """The item's readable text: message text, tool effect, task title..."""
        return item_text(self.type, self.data or {})


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def item_text(item_type: str, data: dict[str, Any]) -> str:
    """Readable text of a stored item's JSON, whatever its type."""
    if item_type in (ItemType.USER_MESSAGE, ItemType.ASSISTANT_MESSAGE):
        parts = [part.get("text", "") for part in data.get("content") or []]
        return "".join(parts)
    if item_type in (ItemType.HIDDEN_CONTEXT, ItemType.SDK_HIDDEN_CONTEXT):
        return _as_text(data.get("content", ""))
    if item_type == ItemType.CLIENT_TOOL_CALL:
        call = f"{data.get('name', '')}({_as_text(data.get('arguments', {}))})"
        output = data.get("output")
        return call if output is None else f"{call} -> {_as_text(output)}"
    if item_type == ItemType.TASK:
        task = data.get("task") or {}
        return task.get("title") or task.get("content") or ""
    if item_type == ItemType.WORKFLOW:
        tasks = (data.get("workflow") or {}).get("tasks") or []
        return "; ".join(t.get("title") or t.get("content") or "" for t in tasks)
    if item_type == ItemType.WIDGET:
        return data.get("copy_text") or ""
    return ""


class ToolEffect(models.Model):
    """A todo change a tool made while answering one user message.

    A rerun of that message (`threads.retry_after_item`, "Try again") finds it
    here and answers the model with the recorded result instead of changing the
    todos a second time.
    """

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="tool_effects")
    user_message_id = models.CharField(max_length=ID_MAX_LENGTH)
    tool = models.CharField(max_length=64)
    # Normalised ways a model may name the same change: the title, "#12", "12"...
    aliases = models.JSONField(default=list)
    # For update_todo: the fields it set (a different change is a new effect).
    fields = models.JSONField(default=dict, blank=True)
    # What the tool told the model.
    result = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["thread", "user_message_id"], name="chat_effect_turn"),
        ]

    def __str__(self) -> str:
        return f"{self.tool} for {self.user_message_id}"


class FeedbackKind(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


class Feedback(models.Model):
    """A user's thumbs up or down on one assistant or widget item; the latest wins."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="feedback")
    item_id = models.CharField(max_length=ID_MAX_LENGTH)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_feedback"
    )
    kind = models.CharField(max_length=16, choices=FeedbackKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "item_id", "user"], name="chat_feedback_one_per_item_user"
            ),
        ]
        indexes = [models.Index(fields=["kind", "-updated_at"], name="chat_feedback_kind")]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.kind} on {self.item_id}"
