"""Attachments made through the services, as a client would make them (both phases)."""

from __future__ import annotations

import io
import uuid

from accounts.models import User
from attachments import services
from attachments.models import AttachmentFile

BASE_URL = "http://testserver/"


def uploaded_attachment(
    user: User, name: str = "notes.txt", data: bytes = b"milk\n", mime_type: str = "text/plain"
) -> AttachmentFile:
    schema = services.attachment_create(
        user=user,
        attachment_id=f"atc_{uuid.uuid4().hex}",
        name=name,
        size=len(data),
        mime_type=mime_type,
        base_url=BASE_URL,
    )
    token = str(schema.upload_descriptor.url).split("?token=")[1]
    services.attachment_upload(
        attachment_id=schema.id, token=token, content=io.BytesIO(data), size=len(data)
    )
    return AttachmentFile.objects.select_related("attachment").get(pk=schema.id)
