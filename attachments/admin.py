"""Admin: every attachment with its owner, size, type, state and thread; staff can open
the file (a download, never a page of ours) and see an image's preview. Read-only;
deleting one deletes its bytes."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat, truncatechars
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString

from attachments.models import Attachment, AttachmentFile, Status
from attachments.storage import attachment_storage
from attachments.views import PREVIEW_HEADERS


def attachment_state(file: AttachmentFile) -> str:
    """Where the upload stands, in words: never "waiting" for a file that can't come."""
    if file.status == Status.UPLOADED:
        return "Uploaded"
    if file.rejection:
        return f"Rejected: {file.rejection}"
    ttl = datetime.timedelta(seconds=settings.ATTACHMENTS["UPLOAD_URL_TTL"])
    if file.created_at + ttl < timezone.now():
        return "Never uploaded (its upload link expired)"
    return "Waiting for upload"


@admin.register(AttachmentFile)
class AttachmentFileAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "size_display", "mime_type", "state", "thread", "created_at")
    list_filter = ("kind", "mime_type", "status", "created_at")
    search_fields = ("name", "owner__email", "owner__username", "attachment__id")
    date_hierarchy = "created_at"
    fields = (
        "attachment",
        "owner",
        "name",
        "file_link",
        "preview",
        "mime_type",
        "kind",
        "size",
        "state",
        "thread",
        "storage_name",
        "created_at",
        "uploaded_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AttachmentFile]:
        return super().get_queryset(request).select_related("owner", "attachment__thread")

    @admin.display(description="size", ordering="size")
    def size_display(self, obj: AttachmentFile) -> str:
        return filesizeformat(obj.size)

    @admin.display(description="state", ordering="status")
    def state(self, obj: AttachmentFile) -> str:
        return attachment_state(obj)

    @admin.display(description="thread")
    def thread(self, obj: AttachmentFile) -> SafeString | str:
        thread = obj.attachment.thread
        if thread is None:
            return "(not sent)"
        url = reverse("admin:chat_thread_change", args=[quote(thread.pk)])
        return format_html('<a href="{}">{}</a>', url, truncatechars(thread.title or thread.pk, 48))

    @admin.display(description="file")
    def file_link(self, obj: AttachmentFile) -> SafeString | str:
        if obj.status != Status.UPLOADED:
            return "(no bytes)"
        url = reverse("admin:attachments_attachmentfile_file", args=[quote(obj.pk)])
        return format_html('<a href="{}" download>Download {}</a>', url, obj.name)

    @admin.display(description="preview")
    def preview(self, obj: AttachmentFile) -> SafeString | str:
        if obj.status != Status.UPLOADED or obj.kind != "image":
            return "(none)"
        url = reverse("admin:attachments_attachmentfile_file", args=[quote(obj.pk)]) + "?inline=1"
        return format_html(
            '<img src="{}" alt="{}" class="attachment-preview" loading="lazy">', url, obj.name
        )

    def get_urls(self) -> list[URLPattern]:
        file_view = self.admin_site.admin_view(self.file_view)
        return [
            path("<path:object_id>/file/", file_view, name="attachments_attachmentfile_file"),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The stored bytes, for staff who may view attachments: a download (an image
        may be shown inline), with headers that keep it from acting as a page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        file = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if file is None or file.status != Status.UPLOADED:
            raise Http404
        try:
            content = attachment_storage().open(file.storage_name, "rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        inline = request.GET.get("inline") == "1" and file.kind == "image"
        response = FileResponse(content, content_type=file.mime_type)
        response["Content-Disposition"] = content_disposition_header(not inline, file.name)
        response["Cache-Control"] = "private, no-store"
        for name, value in PREVIEW_HEADERS.items():
            response[name] = value
        return response

    def delete_model(self, request: HttpRequest, obj: AttachmentFile) -> None:
        obj.attachment.delete()  # ChatKit's row too; the bytes follow (signals)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AttachmentFile]) -> None:
        Attachment.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).delete()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    class Media:
        css = {"all": ["chat/admin.css"]}
