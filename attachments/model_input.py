"""What the model is shown of an attachment: images as image inputs (data URLs),
text files as text, PDFs as their extracted text; each bounded and labelled by name."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chatkit.types import Attachment, UserMessageItem
from django.conf import settings
from openai.types.responses import ResponseInputImageParam, ResponseInputTextParam

from attachments import selectors
from attachments.files import IMAGE_TYPES, PDF_TYPE, TEXT_TYPES
from attachments.labels import label
from attachments.models import AttachmentFile
from config.db import run_sync

logger = logging.getLogger(__name__)

PDF_MAX_PAGES = 50


def _text(text: str) -> ResponseInputTextParam:
    return ResponseInputTextParam(type="input_text", text=text)


def _bounded(text: str) -> str:
    limit = settings.ATTACHMENTS["MODEL_TEXT_CHARS"]
    text = text.replace("\x00", "")
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… cut: the file is longer than {limit} characters]"


def _pdf_text(data: bytes) -> str | None:
    """The text of a PDF's first pages, or None when it has none we can read."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return None
        limit = settings.ATTACHMENTS["MODEL_TEXT_CHARS"]
        pages: list[str] = []
        for page in reader.pages[:PDF_MAX_PAGES]:
            pages.append(page.extract_text() or "")
            if sum(len(p) for p in pages) > limit:
                break
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        logger.info("Could not read a PDF attachment", exc_info=True)
        return None
    text = "\n\n".join(pages).strip()
    return text or None


def file_input(file: AttachmentFile) -> ResponseInputTextParam | ResponseInputImageParam:
    """One stored attachment as one model input part."""
    if file.mime_type in IMAGE_TYPES:
        data = base64.b64encode(selectors.attachment_read(file=file)).decode()
        return ResponseInputImageParam(
            type="input_image", detail="auto", image_url=f"data:{file.mime_type};base64,{data}"
        )
    heading = label("file", file.name, file.mime_type)
    limit = settings.ATTACHMENTS["MODEL_TEXT_CHARS"]
    if file.mime_type in TEXT_TYPES:
        raw = selectors.attachment_read(file=file, limit=limit * 4 + 4)
        return _text(f"{heading}:\n{_bounded(raw.decode('utf-8', errors='ignore'))}")
    if file.mime_type == PDF_TYPE:
        text = _pdf_text(selectors.attachment_read(file=file))
        if text is None:
            return _text(f"{heading}: it has no text that can be read (a scan, or protected).")
        return _text(f"{heading}, its text:\n{_bounded(text)}")
    return _text(f"{heading}: this type of file can't be read.")


def _attachment_input(attachment_id: str, kind: str, name: str, mime_type: str) -> Any:
    gone = _text(f"{label(kind, name, mime_type)}: it is no longer available.")
    file = selectors.attachment_uploaded(attachment_id=attachment_id)
    if file is None:
        return gone
    try:
        return file_input(file)
    except FileNotFoundError:  # its bytes were lost from storage
        logger.warning("Attachment %s has no bytes in storage", attachment_id)
        return gone


async def attachment_input(attachment: Attachment) -> Any:
    """`ThreadItemConverter.attachment_to_message_content` for our attachments."""
    return await run_sync(
        _attachment_input, attachment.id, attachment.type, attachment.name, attachment.mime_type
    )


def label_images(
    converted: Any, attachments: list[Attachment], earlier: list[Attachment] | None = None
) -> Any:
    """Put each image's name just before it in a converted user message (an image
    input has no name; the model, and the offline model, should know it), and a
    note for each image of an earlier message that is not sent again."""
    if not attachments and not earlier:
        return converted
    for message in converted if isinstance(converted, list) else [converted]:
        content = message.get("content") if isinstance(message, dict) else None
        # The SDK's user message: the typed text, then one part per attachment.
        if not isinstance(content, list) or len(content) != 1 + len(attachments):
            continue
        labelled: list[Any] = [content[0]]
        for attachment, part in zip(attachments, content[1:], strict=True):
            if isinstance(part, dict) and part.get("type") == "input_image":
                labelled.append(_text(label("image", attachment.name, attachment.mime_type)))
            labelled.append(part)
        for image in earlier or ():
            note = label("image", image.name, image.mime_type)
            labelled.append(_text(f"{note}, shown to you when it was sent"))
        message["content"] = labelled
        break
    return converted


async def user_message_input(
    convert: Callable[[UserMessageItem, bool], Awaitable[Any]],
    item: UserMessageItem,
    is_last_message: bool,
) -> Any:
    """The converter's user message, with attachments: images go in with the message
    that sends them (every turn would send them again whole), files' text always."""
    if not item.attachments:  # most messages: nothing to copy or label
        return await convert(item, is_last_message)
    # A file named twice in one message goes to the model once.
    unique = list({attachment.id: attachment for attachment in item.attachments}.values())
    earlier = [] if is_last_message else [a for a in unique if a.type == "image"]
    sent = item.model_copy(update={"attachments": [a for a in unique if a not in earlier]})
    return label_images(await convert(sent, is_last_message), sent.attachments, earlier)
