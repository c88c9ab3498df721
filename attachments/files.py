"""What we accept: the allowed types, their magic numbers, and safe file names."""

from __future__ import annotations

import os
import re
import unicodedata

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv"})
PDF_TYPE = "application/pdf"
ALLOWED_TYPES = IMAGE_TYPES | TEXT_TYPES | {PDF_TYPE}

MAX_PER_MESSAGE = 10
NAME_MAX_CHARS = 120
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]')


def normalize_mime_type(mime_type: str) -> str:
    """`Text/CSV; charset=utf-8` → `text/csv`."""
    return mime_type.split(";", 1)[0].strip().lower()


def is_image(mime_type: str) -> bool:
    return mime_type in IMAGE_TYPES


def sanitize_name(name: str) -> str:
    """A display name safe in a header, a page and a log: no path, no control
    characters, no leading dots, at most NAME_MAX_CHARS (the extension kept)."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]  # a browser may send a full path
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if len(name) > NAME_MAX_CHARS:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[: NAME_MAX_CHARS - len(ext)].rstrip(" .") + ext
    return name or "attachment"


def _is_utf8_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def matches_type(head: bytes, mime_type: str) -> bool:
    """Whether the first bytes of a file are what its declared type says."""
    match mime_type:
        case "image/png":
            return head.startswith(b"\x89PNG\r\n\x1a\n")
        case "image/jpeg":
            return head.startswith(b"\xff\xd8\xff")
        case "image/gif":
            return head.startswith((b"GIF87a", b"GIF89a"))
        case "image/webp":
            return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        case "application/pdf":
            return head.lstrip(b"\r\n\t ")[:5] == b"%PDF-"
        case _ if mime_type in TEXT_TYPES:
            return _is_utf8_text(head)
    return False
