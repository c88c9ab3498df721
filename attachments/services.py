"""Writes on attachments: announce (two-phase upload), receive the bytes, delete, purge."""

from __future__ import annotations

import datetime
import uuid
from typing import IO

from chatkit.types import Attachment as AttachmentSchema
from chatkit.types import AttachmentUploadDescriptor, FileAttachment, ImageAttachment
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from attachments import links
from attachments.files import (
    ALLOWED_TYPES,
    is_image,
    matches_type,
    normalize_mime_type,
    sanitize_name,
)
from attachments.models import Attachment, AttachmentFile, Kind, Status
from attachments.selectors import attachment_usage_bytes
from attachments.storage import attachment_storage
from config.exceptions import ApiError, BadRequest, NotFound, PayloadTooLarge

SNIFF_BYTES = 65536


def _mib(size: int) -> str:
    return f"{size / 1048576:.0f} MiB" if size >= 1048576 else f"{size} bytes"


def attachment_schema(
    *, file: AttachmentFile, base_url: str, with_upload: bool, thread_id: str | None = None
) -> AttachmentSchema:
    """ChatKit's view of the attachment, with its signed links."""
    upload = None
    if with_upload:
        upload = AttachmentUploadDescriptor(
            url=links.absolute_url(
                "upload", base_url=base_url, attachment_id=file.id, user_id=file.owner_id
            ),
            method="POST",
            headers={},
        )
    common = {
        "id": file.id,
        "name": file.name,
        "mime_type": file.mime_type,
        "upload_descriptor": upload,
        "thread_id": thread_id,
    }
    if file.kind == Kind.IMAGE:
        preview = links.absolute_url(
            "preview", base_url=base_url, attachment_id=file.id, user_id=file.owner_id
        )
        return ImageAttachment(preview_url=preview, **common)
    return FileAttachment(**common)


def attachment_create(
    *, user: User, attachment_id: str, name: str, size: int, mime_type: str, base_url: str
) -> AttachmentSchema:
    """Announce a file: checks type, size and quota, reserves the size, and answers
    the attachment with where to upload its bytes."""
    mime_type = normalize_mime_type(mime_type)
    if mime_type not in ALLOWED_TYPES:
        allowed = ", ".join(sorted(ALLOWED_TYPES))
        shown = mime_type[:100] or "unknown"
        raise BadRequest(f"Files of type {shown} can't be attached ({allowed}).")
    if size <= 0:
        raise BadRequest("The file is empty.")
    limits = settings.ATTACHMENTS
    if size > limits["MAX_BYTES"]:
        raise PayloadTooLarge(f"Attachments can be at most {_mib(limits['MAX_BYTES'])}.")
    with transaction.atomic():
        # One announcement at a time per user, so two can't both squeeze under the quota.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        if attachment_usage_bytes(user=user) + size > limits["QUOTA_BYTES"]:
            raise PayloadTooLarge(
                f"Your attachments would use more than {_mib(limits['QUOTA_BYTES'])}: "
                "delete some conversations or attachments first."
            )
        file = AttachmentFile(
            owner=user,
            name=sanitize_name(name),
            mime_type=mime_type,
            kind=Kind.IMAGE if is_image(mime_type) else Kind.FILE,
            size=size,
        )
        file.attachment = Attachment(id=attachment_id, owner=user, data={})
        schema = attachment_schema(file=file, base_url=base_url, with_upload=True)
        file.attachment.data = schema.model_dump(mode="json")
        file.attachment.save(force_insert=True)
        file.save(force_insert=True)
    return schema


def attachment_upload(
    *,
    attachment_id: str,
    token: str,
    content: IO[bytes],
    size: int,
    signed_in_user_id: int | None = None,
) -> AttachmentSchema:
    """Store the bytes sent to a signed upload link (once, for its user, in time).

    `signed_in_user_id`: the page's session user, if any; a link of another user's is
    not found for them.
    """
    try:
        claims = links.verify("upload", token, attachment_id=attachment_id)
    except links.LinkExpired as exc:
        raise BadRequest("This upload link has expired: attach the file again.") from exc
    except links.LinkInvalid as exc:
        raise NotFound("Not found.") from exc
    if signed_in_user_id is not None and signed_in_user_id != claims.user_id:
        raise NotFound("Not found.")
    file = (
        AttachmentFile.objects.filter(
            attachment_id=attachment_id,
            owner_id=claims.user_id,
            owner__is_active=True,  # a deactivated user's links stop at once
        )
        .select_related("attachment")
        .first()
    )
    if file is None:
        raise NotFound("Not found.")
    if file.status != Status.PENDING:
        raise BadRequest("This upload link was already used: attach the file again.")
    refusal = _refusal(file, content, size)
    if refusal is not None:
        # Kept for staff (the admin shows it); the link stays usable for a good file.
        AttachmentFile.objects.filter(pk=file.pk, status=Status.PENDING).update(
            rejection=refusal.message[:200]
        )
        raise refusal
    storage = attachment_storage()
    # A name of its own per attempt: a racing second upload can't overwrite these bytes.
    name = f"{claims.user_id}/{attachment_id}-{uuid.uuid4().hex[:12]}"
    stored_name = storage.save(name, File(content))
    try:
        return _claim_upload(attachment_id=attachment_id, stored_name=stored_name, size=size)
    except BaseException:  # deleted or used meanwhile, or failed: keep nothing of ours
        storage.delete(stored_name)
        raise


def _refusal(file: AttachmentFile, content: IO[bytes], size: int) -> ApiError | None:
    """Why these bytes can't be this file's (too large, empty, not the declared type)."""
    if size > settings.ATTACHMENTS["MAX_BYTES"] or size > file.size:
        return PayloadTooLarge(f"The file is larger than the {_mib(file.size)} announced.")
    if size == 0:
        return BadRequest("The file is empty.")
    head = content.read(SNIFF_BYTES)
    content.seek(0)
    if not matches_type(head, file.mime_type):
        return BadRequest(f"The file's content is not {file.mime_type}.")
    return None


def _claim_upload(*, attachment_id: str, stored_name: str, size: int) -> AttachmentSchema:
    """Record stored bytes on their row, under the row's lock: `attachment_delete` takes
    the same lock, so the bytes are either recorded before a delete reads the row (and
    go with it) or the row is gone and the caller removes them."""
    with transaction.atomic():
        file = (
            AttachmentFile.objects.select_for_update(of=("self",))
            .filter(pk=attachment_id)
            .select_related("attachment")
            .first()
        )
        if file is None:
            raise NotFound("This attachment was deleted: attach the file again.")
        if file.status != Status.PENDING:
            raise BadRequest("This upload link was already used: attach the file again.")
        file.status, file.storage_name, file.size = Status.UPLOADED, stored_name, size
        file.uploaded_at, file.rejection = timezone.now(), ""
        file.save(update_fields=["status", "storage_name", "size", "uploaded_at", "rejection"])
        base_url = _base_of(file.attachment.data)
        schema = attachment_schema(file=file, base_url=base_url, with_upload=False)
        file.attachment.data = schema.model_dump(mode="json")
        file.attachment.save(update_fields=["data"])
    return schema


def _base_of(data: dict) -> str:
    """The scheme and host the attachment was announced on (its links' base)."""
    url = ((data or {}).get("upload_descriptor") or {}).get("url") or ""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else ""


def attachment_delete(*, user: User, attachment_id: str) -> None:
    """Delete the attachment, its row and its bytes; another user's is not found.

    The bytes row is locked first, as an upload records its bytes (`_claim_upload`):
    the delete then sees the bytes an upload recorded, and an upload waiting on the
    lock finds the row gone."""
    with transaction.atomic():
        list(AttachmentFile.objects.select_for_update().filter(pk=attachment_id).values("pk"))
        deleted, _ = Attachment.objects.for_user(user).filter(pk=attachment_id).delete()
    if not deleted:
        raise NotFound("Attachment not found.")


def attachment_purge_orphans(*, older_than_hours: int | None = None, dry_run: bool) -> int:
    """Delete attachments announced more than `older_than_hours` ago and never sent."""
    hours = settings.ATTACHMENTS["ORPHAN_HOURS"] if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - datetime.timedelta(hours=hours)
    orphans = Attachment.objects.filter(thread__isnull=True, created_at__lt=cutoff)
    with transaction.atomic():
        count = orphans.count()
        if count and not dry_run:
            orphans.delete()
    return count
