"""The bytes behind a ChatKit attachment: where they are stored, whose, how large.

ChatKit's own view of an attachment (its JSON) is `chat.Attachment`; this row
hangs off it (one to one, same `atc_…` id), so deleting the attachment, its
thread or its user deletes this row too, and `attachments.signals` then deletes
the bytes from storage.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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
        "chat.Attachment", primary_key=True, on_delete=models.CASCADE, related_name="file"
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
