"""Reads on attachments, always scoped to a user (a miss is "not found")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Sum

from accounts.models import User
from attachments.files import MAX_PER_MESSAGE
from attachments.models import AttachmentFile, Status
from attachments.storage import attachment_storage
from config.db import run_sync
from config.exceptions import BadRequest, NotFound


def attachment_usage_bytes(*, user: User) -> int:
    """Bytes the user's attachments hold or have reserved (announced, not yet uploaded)."""
    total = AttachmentFile.objects.for_user(user).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


def attachment_check_sendable(
    *, user: User, attachment_ids: Iterable[str], thread_id: str | None
) -> None:
    """Every id names an uploaded attachment of the user, not sent in another thread.

    NotFound for another user's (or no) attachment; BadRequest for one not uploaded yet.
    """
    named = list(attachment_ids)
    # SPEC "Limits": counted as named, the same one twice counts twice.
    if len(named) > MAX_PER_MESSAGE:
        raise BadRequest(f"At most {MAX_PER_MESSAGE} attachments per message.")
    ids = list(dict.fromkeys(named))
    if not ids:
        return
    rows = {
        row.attachment_id: row
        for row in AttachmentFile.objects.for_user(user)
        .filter(attachment_id__in=ids)
        .select_related("attachment")
    }
    for attachment_id in ids:
        row = rows.get(attachment_id)
        if row is None:
            raise NotFound("Attachment not found.")
        if row.status != Status.UPLOADED:
            raise BadRequest(f"“{row.name}” has not been uploaded yet.")
        sent_in = row.attachment.thread_id
        if sent_in is not None and sent_in != thread_id:
            raise BadRequest(f"“{row.name}” belongs to another conversation; attach it again.")


def attachment_uploaded(*, attachment_id: str) -> AttachmentFile | None:
    """An uploaded attachment by id, for the model converting a message already
    checked to be its owner's (ids are unguessable `atc_` + 128 random bits)."""
    return (
        AttachmentFile.objects.filter(attachment_id=attachment_id, status=Status.UPLOADED)
        .order_by()
        .first()
    )


def attachment_for_preview(*, attachment_id: str, user_id: int) -> AttachmentFile | None:
    return (
        AttachmentFile.objects.filter(
            attachment_id=attachment_id,
            owner_id=user_id,
            owner__is_active=True,  # a deactivated user's links stop at once
            status=Status.UPLOADED,
        )
        .order_by()
        .first()
    )


def attachment_read(*, file: AttachmentFile, limit: int | None = None) -> bytes:
    """The stored bytes (the first `limit` of them)."""
    with attachment_storage().open(file.storage_name, "rb") as handle:
        return handle.read() if limit is None else handle.read(limit)


async def acheck_message_attachments(*, user: User, request: Any) -> None:
    """For /chatkit, before any stream: the attachments a message names are sendable."""
    chat_input = getattr(getattr(request, "params", None), "input", None)
    attachment_ids = getattr(chat_input, "attachments", None)
    if attachment_ids:
        thread_id = getattr(request.params, "thread_id", None)
        await run_sync(
            attachment_check_sendable, user=user, attachment_ids=attachment_ids, thread_id=thread_id
        )
