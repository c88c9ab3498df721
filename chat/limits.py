"""SPEC "Limits" for ChatKit requests, checked before anything is stored or streamed:
a user message over CHATKIT_MAX_MESSAGE_CHARS and a thread title over 200
characters are `400 bad_request`; list requests ask for at most MAX_PAGE_SIZE."""

from __future__ import annotations

import json
from typing import Any

from chatkit.types import ChatKitReq, UserMessageInput
from django.conf import settings

from config.exceptions import BadRequest

THREAD_TITLE_MAX_CHARS = 200


def message_chars(message: UserMessageInput) -> int:
    """The characters a user message stores: its text, quoted text and tag data."""
    total = len(message.quoted_text or "")
    for part in message.content:
        total += len(getattr(part, "text", "") or "")
        data = getattr(part, "data", None)
        if data:
            total += len(json.dumps(data, ensure_ascii=False, default=str))
    return total


def check_limits(request: ChatKitReq) -> ChatKitReq:
    """`request` if within the limits (list sizes capped); else BadRequest."""
    params: Any = request.params
    chat_input = getattr(params, "input", None)
    if isinstance(chat_input, UserMessageInput):
        limit = int(settings.CHATKIT["MAX_MESSAGE_CHARS"])
        chars = message_chars(chat_input)
        if chars > limit:
            raise BadRequest(f"Message is too long: at most {limit} characters (got {chars}).")
    if request.type == "threads.update" and len(params.title or "") > THREAD_TITLE_MAX_CHARS:
        raise BadRequest(f"Thread title must be at most {THREAD_TITLE_MAX_CHARS} characters.")
    page_size = getattr(params, "limit", None)
    max_page = int(settings.CHATKIT["MAX_PAGE_SIZE"])
    if isinstance(page_size, int) and (page_size > max_page or page_size < 1):
        params.limit = max(1, min(page_size, max_page))
    return request
