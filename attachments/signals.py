"""The bytes go when their row goes, however it goes (a delete, its thread, its user)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from attachments.models import AttachmentFile
from attachments.storage import attachment_storage

logger = logging.getLogger(__name__)


def _delete_bytes(name: str) -> None:
    try:
        attachment_storage().delete(name)
    except OSError:
        logger.warning("Could not delete attachment bytes %s", name, exc_info=True)


@receiver(post_delete, sender=AttachmentFile)
def delete_bytes_with_row(sender: type, instance: AttachmentFile, **kwargs: Any) -> None:
    if instance.storage_name:
        # After the commit: a rolled-back delete keeps its bytes.
        transaction.on_commit(functools.partial(_delete_bytes, instance.storage_name))
