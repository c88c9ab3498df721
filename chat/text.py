"""Text hygiene at the storage boundary: PostgreSQL cannot store NUL characters
(in text or JSON), so they are dropped rather than failing a user's message."""

from __future__ import annotations

from typing import Any


def _clean_str(value: str) -> str:
    return value.replace("\x00", "") if "\x00" in value else value


def without_nul(value: Any) -> Any:
    """`value` (str, list, dict, nested) with every NUL character removed.

    Iterative, not recursive: hostile input nested thousands deep must not
    reach Python's recursion limit (that would be a 500, not a 400).
    """
    if isinstance(value, str):
        return _clean_str(value)
    if not isinstance(value, list | dict):
        return value
    root: list[Any] = [value]
    # (source container, its copy) pairs still to fill.
    stack: list[tuple[Any, Any]] = []

    def copy_of(item: Any) -> Any:
        if isinstance(item, str):
            return _clean_str(item)
        if isinstance(item, list):
            fresh: list[Any] = []
            stack.append((item, fresh))
            return fresh
        if isinstance(item, dict):
            fresh_dict: dict[Any, Any] = {}
            stack.append((item, fresh_dict))
            return fresh_dict
        return item

    root[0] = copy_of(value)
    while stack:
        source, target = stack.pop()
        if isinstance(source, list):
            target.extend(copy_of(item) for item in source)
        else:
            for key, item in source.items():
                target[copy_of(key)] = copy_of(item)
    return root[0]
