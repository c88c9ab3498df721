"""How much of the model-input budget an image takes: a fixed amount, not the
length of its data URL (a 1 MB photo would otherwise push all history out)."""

from __future__ import annotations

from typing import Any

# About what a model is charged for a detailed image, in characters of text.
IMAGE_CHARS = 3000
_PLACEHOLDER = "i" * IMAGE_CHARS


def without_image_data(item: Any) -> Any:
    """`item` with each input image's URL replaced by IMAGE_CHARS characters (for sizing)."""
    content = item.get("content") if isinstance(item, dict) else None
    if not isinstance(content, list) or not any(
        isinstance(part, dict) and part.get("type") == "input_image" for part in content
    ):
        return item
    parts = [
        {**part, "image_url": _PLACEHOLDER}
        if isinstance(part, dict) and part.get("type") == "input_image"
        else part
        for part in content
    ]
    return {**item, "content": parts}
