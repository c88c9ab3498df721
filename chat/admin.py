"""Admin for chat threads: who said what, read-only (threads and items are written by the
chat only; staff can read and delete a conversation, never reassign or add one)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr, truncatechars
from django.urls import reverse
from django.utils.html import SafeString, format_html

from chat import selectors
from chat.models import Feedback, Thread, ThreadItem, ToolEffect
from usage.admin import turn_usage_table
from usage.selectors import thread_turns


def _message(item: ThreadItem) -> SafeString:
    # linebreaksbr escapes the text first: item content is user input.
    return linebreaksbr(item.text)


def thread_link(thread_id: str | None, title: str | None) -> SafeString | str:
    """A thread as its title (shortened), linking to its admin page."""
    if not thread_id:
        return "(not sent)"
    url = reverse("admin:chat_thread_change", args=[quote(thread_id)])
    return format_html('<a href="{}">{}</a>', url, truncatechars(title or thread_id, 48))


def status_label(status: dict[str, Any] | None) -> str:
    """A thread's ChatKit status ({"type": "locked", "reason": ...}) as words."""
    status = status or {}
    label = str(status.get("type") or "active").capitalize()
    reason = status.get("reason")
    return f"{label}: {reason}" if reason else label


class ReadableItemsMedia:
    """Wraps long messages inside the page width (static/chat/admin.css)."""

    css = {"all": ["chat/admin.css"]}


class ThreadItemInline(admin.TabularInline):
    """The conversation, oldest first: speaker, text, tool effects (hidden context)."""

    model = ThreadItem
    # The row's own label already names the item ("msg_… (user_message)"): no id column.
    fields = ("created_at", "speaker", "message")
    readonly_fields = fields
    ordering = ("created_at", "seq")
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="said")
    def message(self, obj: ThreadItem) -> SafeString:
        return _message(obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FeedbackInline(admin.TabularInline):
    """Thumbs up/down on this thread's answers."""

    model = Feedback
    fields = ("updated_at", "kind", "item_id", "user")
    readonly_fields = fields
    ordering = ("-updated_at",)
    extra = 0
    can_delete = False
    verbose_name_plural = "feedback"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ToolEffectInline(admin.TabularInline):
    """The todo changes tools made, per user message (what a retry will not redo)."""

    model = ToolEffect
    fields = ("created_at", "user_message_id", "tool", "result")
    readonly_fields = fields
    ordering = ("id",)
    extra = 0
    can_delete = False
    verbose_name_plural = "tool effects"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    """Read-only: a conversation is its owner's; staff read it and may delete it."""

    list_display = ("title_display", "owner", "item_count", "updated_at", "id")
    list_display_links = ("title_display",)
    list_filter = ("updated_at", "owner__is_staff")
    search_fields = ("title", "owner__email", "id")
    date_hierarchy = "updated_at"
    fields = ("id", "owner", "title", "status_display", "created_at", "updated_at", "usage")
    readonly_fields = fields
    inlines = (ThreadItemInline, FeedbackInline, ToolEffectInline)
    Media = ReadableItemsMedia

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="status")
    def status_display(self, obj: Thread) -> str:
        return status_label(obj.status)

    @admin.display(description="usage")
    def usage(self, obj: Thread) -> str:
        """Its turns' tokens, cost, timing and outcome (usage/), newest first."""
        return turn_usage_table(thread_turns(thread_id=obj.pk))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Thread]:
        # Owner joined and item count annotated: no query per row.
        return selectors.thread_list_for_admin()

    @admin.display(description="title", ordering="title")
    def title_display(self, obj: Thread) -> str:
        return obj.title or "(untitled)"

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj: Thread) -> int:
        return obj.item_count  # type: ignore[attr-defined]  # annotated in get_queryset


@admin.register(ThreadItem)
class ThreadItemAdmin(admin.ModelAdmin):
    """Every item across threads, for searching; read-only."""

    # The speaker says the type in words (the filter has every type).
    list_display = ("item_id", "thread_title", "speaker", "short_text", "created_at")
    list_filter = ("type", "created_at")
    search_fields = ("item_id", "thread__id", "thread__title", "thread__owner__email")
    list_select_related = ("thread",)
    fields = ("item_id", "thread", "type", "created_at", "speaker", "message", "data")
    readonly_fields = fields
    ordering = ("-created_at", "-seq")
    Media = ReadableItemsMedia

    @admin.display(description="thread", ordering="thread__title")
    def thread_title(self, obj: ThreadItem) -> SafeString | str:
        # Not the foreign key itself: Django keeps such a column on one line, and a
        # long title pushed every column after it out of a 1280 px screen.
        return thread_link(obj.thread_id, obj.thread.title)

    @admin.display(description="said")
    def short_text(self, obj: ThreadItem) -> str:
        return truncatechars(obj.text, 80)

    @admin.display(description="said")
    def message(self, obj: ThreadItem) -> SafeString:
        return _message(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    """Every rating across threads, with what was rated; read-only."""

    list_display = ("updated_at", "kind", "user", "thread", "item_id")
    list_filter = ("kind", "updated_at", "created_at")
    search_fields = ("item_id", "thread__id", "thread__title", "user__email")
    list_select_related = ("thread", "user")
    fields = ("kind", "user", "thread", "item_id", "created_at", "updated_at", "rated_text")
    readonly_fields = fields
    date_hierarchy = "updated_at"

    @admin.display(description="rated item")
    def rated_text(self, obj: Feedback) -> str:
        item = ThreadItem.objects.filter(thread_id=obj.thread_id, item_id=obj.item_id).first()
        return truncatechars(item.text, 120) if item is not None else "(deleted)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
