"""ChatKit's AttachmentStore over our services: the two-phase upload's first phase
(`attachments.create`) and `attachments.delete`, for the request's user only."""

from __future__ import annotations

import uuid

from chatkit.store import AttachmentStore, NotFoundError
from chatkit.types import Attachment, AttachmentCreateParams
from django.conf import settings

from attachments import services
from chat.context import RequestContext
from config.db import run_sync
from config.exceptions import NotFound


class DjangoAttachmentStore(AttachmentStore[RequestContext]):
    """Bytes in Django's storage, metadata in the database, per user."""

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        return f"atc_{uuid.uuid4().hex}"

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        return await run_sync(
            services.attachment_create,
            user=context.user,
            attachment_id=self.generate_attachment_id(input.mime_type, context),
            name=input.name,
            size=input.size,
            mime_type=input.mime_type,
            base_url=context.base_url or settings.ATTACHMENTS["FALLBACK_BASE_URL"],
        )

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        try:
            await run_sync(
                services.attachment_delete, user=context.user, attachment_id=attachment_id
            )
        except NotFound as exc:
            raise NotFoundError(f"Attachment {attachment_id} not found") from exc
