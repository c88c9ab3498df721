"""Admin: every attachment with its owner, size and type (deleting one deletes its bytes)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from attachments.models import AttachmentFile
from chat.models import Attachment as ChatAttachment


@admin.register(AttachmentFile)
class AttachmentFileAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "size_display", "mime_type", "status", "thread", "created_at")
    list_filter = ("kind", "mime_type", "status", "created_at")
    search_fields = ("name", "owner__email", "owner__username", "attachment__id")
    date_hierarchy = "created_at"
    fields = (
        "attachment",
        "owner",
        "name",
        "mime_type",
        "kind",
        "size",
        "status",
        "thread",
        "storage_name",
        "created_at",
        "uploaded_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AttachmentFile]:
        return super().get_queryset(request).select_related("owner", "attachment")

    @admin.display(description="size", ordering="size")
    def size_display(self, obj: AttachmentFile) -> str:
        return filesizeformat(obj.size)

    @admin.display(description="thread")
    def thread(self, obj: AttachmentFile) -> str:
        return obj.attachment.thread_id or "(not sent)"

    def delete_model(self, request: HttpRequest, obj: AttachmentFile) -> None:
        obj.attachment.delete()  # ChatKit's row too; the bytes follow (signals)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AttachmentFile]) -> None:
        ChatAttachment.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).delete()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
