"""What a client is told about attachments: the server's limits, in ChatKit's terms."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from attachments.files import ALLOWED_TYPES, MAX_PER_MESSAGE

EXTENSIONS = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/webp": [".webp"],
    "image/gif": [".gif"],
    "text/plain": [".txt"],
    "text/markdown": [".md", ".markdown"],
    "text/csv": [".csv"],
    "application/pdf": [".pdf"],
}
assert set(EXTENSIONS) == ALLOWED_TYPES


def client_config() -> dict[str, Any]:
    """For the built-in page: ChatKit's `composer.attachments` and whether dictation works."""
    return {
        "maxBytes": settings.ATTACHMENTS["MAX_BYTES"],
        "maxCount": MAX_PER_MESSAGE,
        "accept": EXTENSIONS,
        "dictation": bool(settings.CHATKIT["OPENAI_API_KEY"]),
    }
