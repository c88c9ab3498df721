"""Text hygiene at the storage boundary: PostgreSQL cannot store NUL characters
(in text or JSON), so they are dropped rather than failing a user's message."""

from __future__ import annotations

from typing import Any


def without_nul(value: Any) -> Any:
    """`value` (str, list, dict, nested) with every NUL character removed."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value
