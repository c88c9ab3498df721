"""The model-input budget: what one model call receives is bounded, so a long
thread keeps working and costs stay flat.

Hooked into every model call of a run (`RunConfig.call_model_input_filter`, see
chat/agent.py), so it covers the thread's history and the tool outputs produced
during the turn alike:

1. each tool output and each context note is cut to TOOL_OUTPUT_MAX_CHARS;
2. then the oldest items are dropped until the input fits MODEL_INPUT_BUDGET_CHARS
   (characters of the items' JSON, a stable stand-in for tokens), never the
   current turn (the last user message and what follows it);
3. the kept history starts at a message, never at a tool call or output whose
   pair was dropped (the model API refuses an output without its call).
"""

from __future__ import annotations

import json
from typing import Any

from agents.run_config import CallModelData, ModelInputData
from django.conf import settings

from attachments.input_size import without_image_data

TRUNCATED = "… [cut to fit the model's input budget]"
_CAPPED_TYPES = {"function_call_output"}
_CAPPED_ROLES = {"developer", "system"}


def item_chars(item: Any) -> int:
    # An image counts as a fixed amount, not its data URL (attachments/input_size.py).
    return len(json.dumps(without_image_data(item), ensure_ascii=False, default=str))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(TRUNCATED))] + TRUNCATED


def cap_item(item: Any, limit: int) -> Any:
    """A tool output or context note cut to `limit` characters; other items as they are."""
    if not isinstance(item, dict):
        return item
    if item.get("type") in _CAPPED_TYPES:
        field = "output"
    elif item.get("role") in _CAPPED_ROLES:
        field = "content"
    else:
        return item
    value = item.get(field)
    if isinstance(value, str) and len(value) > limit:
        return {**item, field: _cut(value, limit)}
    return item


def _is_message(item: Any) -> bool:
    return isinstance(item, dict) and "role" in item and item.get("type", "message") == "message"


def _current_turn_start(items: list[Any]) -> int:
    for index in range(len(items) - 1, -1, -1):
        if _is_message(items[index]) and items[index].get("role") == "user":
            return index
    return max(0, len(items) - 1)


def trim_to_budget(items: list[Any], *, budget: int, tool_output_max: int) -> list[Any]:
    """`items` capped and trimmed, oldest first, to about `budget` characters."""
    capped = [cap_item(item, tool_output_max) for item in items]
    sizes = [item_chars(item) for item in capped]
    protected = _current_turn_start(capped)
    total, start = sum(sizes), 0
    while total > budget and start < protected:
        total -= sizes[start]
        start += 1
    # Never begin with half of a tool call/output pair.
    while start < protected and not _is_message(capped[start]):
        start += 1
    return capped[start:]


def filter_model_input(data: CallModelData[Any]) -> ModelInputData:
    """`RunConfig.call_model_input_filter`: the run's model input within budget."""
    config = settings.CHATKIT
    model_data = data.model_data
    trimmed = trim_to_budget(
        list(model_data.input),
        budget=int(config["MODEL_INPUT_BUDGET_CHARS"]),
        tool_output_max=int(config["TOOL_OUTPUT_MAX_CHARS"]),
    )
    return ModelInputData(input=trimmed, instructions=model_data.instructions)
