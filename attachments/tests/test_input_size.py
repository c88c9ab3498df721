"""An image takes a fixed share of the model-input budget, whatever its size."""

from __future__ import annotations

from attachments.input_size import IMAGE_CHARS, without_image_data
from chat.budget import item_chars, trim_to_budget


def message(role: str, *parts: dict) -> dict:
    return {"type": "message", "role": role, "content": list(parts)}


def image(size: int) -> dict:
    return {
        "type": "input_image",
        "detail": "auto",
        "image_url": "data:image/png;base64," + "A" * size,
    }


def test_an_image_counts_as_a_fixed_amount():
    small = message("user", {"type": "input_text", "text": "hi"}, image(10))
    large = message("user", {"type": "input_text", "text": "hi"}, image(5_000_000))
    assert item_chars(small) == item_chars(large) > IMAGE_CHARS
    assert without_image_data(large)["content"][0] == {"type": "input_text", "text": "hi"}
    assert large["content"][1]["image_url"].startswith("data:")  # the item itself is untouched


def test_a_photo_in_this_turn_keeps_the_history():
    history = [
        message("user", {"type": "input_text", "text": "add milk"}),
        message("assistant", {"type": "output_text", "text": "Added milk."}),
    ]
    turn = [message("user", {"type": "input_text", "text": "and these?"}, image(2_000_000))]

    kept = trim_to_budget(history + turn, budget=60_000, tool_output_max=8000)

    assert kept == history + turn
