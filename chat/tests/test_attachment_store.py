"""The SDK's AttachmentStore over our services, for the context's user only."""

from __future__ import annotations

import pytest
from chatkit.store import NotFoundError
from chatkit.types import AttachmentCreateParams, FileAttachment, ImageAttachment

from attachments.models import AttachmentFile, Status
from chat.attachment_store import DjangoAttachmentStore
from chat.context import RequestContext

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def attachment_store() -> DjangoAttachmentStore:
    return DjangoAttachmentStore()


async def test_create_answers_the_attachment_with_its_upload_link(attachment_store, user):
    context = RequestContext(user=user, base_url="https://todo.example.com/")
    params = AttachmentCreateParams(name="cat.webp", size=100, mime_type="image/webp")

    attachment = await attachment_store.create_attachment(params, context)

    assert isinstance(attachment, ImageAttachment)
    assert attachment.id.startswith("atc_") and len(attachment.id) == 36
    url = str(attachment.upload_descriptor.url)
    assert url.startswith(f"https://todo.example.com/api/attachments/{attachment.id}/upload?token=")
    assert str(attachment.preview_url).startswith("https://todo.example.com/api/attachments/")
    row = await AttachmentFile.objects.aget(pk=attachment.id)
    assert (row.owner_id, row.kind, row.status) == (user.pk, "image", Status.PENDING)


async def test_files_are_file_attachments(attachment_store, user):
    params = AttachmentCreateParams(name="a.pdf", size=10, mime_type="Application/PDF")
    attachment = await attachment_store.create_attachment(params, RequestContext(user=user))
    assert isinstance(attachment, FileAttachment)
    assert attachment.mime_type == "application/pdf"
    # Outside a request (no host to build on), links use the configured fallback.
    assert str(attachment.upload_descriptor.url).startswith("http://localhost:8000/api/")


async def test_delete_is_for_the_owner_only(attachment_store, user, other_user):
    params = AttachmentCreateParams(name="a.txt", size=10, mime_type="text/plain")
    attachment = await attachment_store.create_attachment(params, RequestContext(user=user))

    with pytest.raises(NotFoundError):
        await attachment_store.delete_attachment(attachment.id, RequestContext(user=other_user))
    assert await AttachmentFile.objects.filter(pk=attachment.id).aexists()

    await attachment_store.delete_attachment(attachment.id, RequestContext(user=user))
    assert not await AttachmentFile.objects.aexists()
