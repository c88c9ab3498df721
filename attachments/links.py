"""Signed, expiring links: where a user's client uploads an attachment's bytes,
and where their images are previewed. The signature binds the link to one
attachment and one user; an `<img>` or an upload can send no bearer token."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from chatkit.types import ImageAttachment
from django.conf import settings
from django.core import signing
from django.urls import reverse
from pydantic import AnyUrl

Purpose = Literal["upload", "preview"]
_SALT = "attachments.link."


class LinkExpired(Exception):
    """A well-signed link past its lifetime."""


class LinkInvalid(Exception):
    """A link not signed by us, or for another attachment."""


@dataclass(frozen=True)
class LinkClaims:
    attachment_id: str
    user_id: int


def _ttl(purpose: Purpose) -> int:
    key = "UPLOAD_URL_TTL" if purpose == "upload" else "PREVIEW_URL_TTL"
    return settings.ATTACHMENTS[key]


def sign(purpose: Purpose, *, attachment_id: str, user_id: int) -> str:
    return signing.dumps({"a": attachment_id, "u": user_id}, salt=_SALT + purpose)


def verify(purpose: Purpose, token: str, *, attachment_id: str) -> LinkClaims:
    """The claims of a link for `attachment_id`; LinkExpired or LinkInvalid otherwise."""
    try:
        data = signing.loads(token, salt=_SALT + purpose, max_age=_ttl(purpose))
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    if not isinstance(data, dict) or data.get("a") != attachment_id:
        raise LinkInvalid
    user_id = data.get("u")
    if not isinstance(user_id, int):
        raise LinkInvalid
    return LinkClaims(attachment_id=attachment_id, user_id=user_id)


def absolute_url(purpose: Purpose, *, base_url: str, attachment_id: str, user_id: int) -> str:
    """`base_url` (scheme and host, from the request) + the signed path."""
    path = reverse(f"attachment-{purpose}", args=[attachment_id])
    token = sign(purpose, attachment_id=attachment_id, user_id=user_id)
    return f"{base_url.rstrip('/')}{path}?token={token}"


def refresh_previews(items: Iterable[Any], *, base_url: str, user_id: int) -> None:
    """Fresh preview links on the images of loaded items: those stored with a
    message expire, and a conversation reopened later must still show them."""
    if not base_url:
        return
    for item in items:
        for attachment in getattr(item, "attachments", None) or ():
            if isinstance(attachment, ImageAttachment):
                url = absolute_url(
                    "preview", base_url=base_url, attachment_id=attachment.id, user_id=user_id
                )
                attachment.preview_url = AnyUrl(url)
