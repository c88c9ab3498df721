"""SPEC "Limits" for ChatKit requests, checked before anything is stored or streamed:
a user message over CHATKIT_MAX_MESSAGE_CHARS (every string it carries counts) and a
thread title over 200 characters are `400 bad_request`; the other strings of a request
(ids, cursors, names, action payloads, a client tool's output) are bounded together by
the same limit; list requests ask for at most MAX_PAGE_SIZE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from chatkit.types import ChatKitReq, UserMessageInput
from django.conf import settings

from config.exceptions import BadRequest

THREAD_TITLE_MAX_CHARS = 200


def message_chars(message: UserMessageInput) -> int:
    """The characters a user message carries: its text, quoted text, tags (id, text,
    group, data) and inference options (model, tool choice). Attachment ids are
    checked to name the user's own attachments before anything is stored."""
    total = len(message.quoted_text or "")
    for part in message.content:
        for name in ("text", "id", "group"):
            value = getattr(part, name, None)
            total += len(value) if isinstance(value, str) else 0
        data = getattr(part, "data", None)
        if data:
            total += len(json.dumps(data, ensure_ascii=False, default=str))
    options = message.inference_options
    if options is not None:
        total += len(options.model or "")
        total += len(options.tool_choice.id) if options.tool_choice is not None else 0
    return total


def _strings(value: Any) -> Iterator[str]:
    """Every string in `value` (dict keys too), walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def other_chars(params: Any) -> int:
    """The characters of a request's strings outside its user message (counted on its
    own) and dictated audio (bounded by CHATKIT_MAX_BODY_BYTES, never stored)."""
    if params is None:
        return 0
    exclude = {"audio_base64"}
    if isinstance(getattr(params, "input", None), UserMessageInput):
        exclude.add("input")
    dumped = params.model_dump(mode="python", exclude=exclude)
    return sum(len(text) for text in _strings(dumped))


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
    if other_chars(params) > int(settings.CHATKIT["MAX_MESSAGE_CHARS"]):
        raise BadRequest("Request fields are too long.")
    page_size = getattr(params, "limit", None)
    max_page = int(settings.CHATKIT["MAX_PAGE_SIZE"])
    if isinstance(page_size, int) and (page_size > max_page or page_size < 1):
        params.limit = max(1, min(page_size, max_page))
    return request
