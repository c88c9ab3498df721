"""ChatKit attachments: their metadata (`Attachment`, ChatKit's JSON) and the bytes
behind one (`AttachmentFile`: where they are stored, whose, how large).

The file row hangs off the attachment (one to one, same `atc_…` id), so deleting the
attachment, its thread or its user deletes it too, and `attachments.signals` then
deletes the bytes from storage. The attachment table keeps the name it had when the
model lived in `chat` (`chat_attachment`): moving the model moved no row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

# Ids are opaque strings chosen by ChatKit (or a client), as chat's are.
ID_MAX_LENGTH = 255


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def for_user(self, user: models.Model) -> AttachmentQuerySet:
        return self.filter(owner=user)


class Attachment(models.Model):
    """A ChatKit attachment's metadata (the file itself lives elsewhere)."""

    id = models.CharField(primary_key=True, max_length=ID_MAX_LENGTH)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_attachments"
    )
    # A lazy reference, not an import: the thread is chat's, and deleting it deletes
    # its attachments.
    thread = models.ForeignKey(
        "chat.Thread", on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        db_table = "chat_attachment"
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return str((self.data or {}).get("name") or self.id)


class Kind(models.TextChoices):
    """ChatKit's attachment variants."""

    FILE = "file", "File"
    IMAGE = "image", "Image"


class Status(models.TextChoices):
    PENDING = "pending", "Waiting for upload"
    UPLOADED = "uploaded", "Uploaded"


class AttachmentFileQuerySet(models.QuerySet["AttachmentFile"]):
    def for_user(self, user: models.Model) -> AttachmentFileQuerySet:
        return self.filter(owner=user)


class AttachmentFile(models.Model):
    """One uploaded (or announced) file of a user; its size counts toward their quota."""

    attachment = models.OneToOneField(
        Attachment, primary_key=True, on_delete=models.CASCADE, related_name="file"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachment_files"
    )
    name = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Declared at creation (reserved against the quota), then the real size.
    size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Why the last upload to this (still pending) file was refused, for staff: a
    # client that gives up after a refusal leaves it pending for good otherwise.
    rejection = models.CharField(max_length=200, blank=True, default="")
    # The name in the attachments storage; never derived from the user's file name.
    storage_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    objects = AttachmentFileQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "created_at"], name="attachments_owner_created"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id(self) -> str:
        return self.attachment_id
