"""The storage the bytes live in (the "attachments" alias of STORAGES)."""

from __future__ import annotations

from django.core.files.storage import Storage, storages

ALIAS = "attachments"


def attachment_storage() -> Storage:
    return storages[ALIAS]
