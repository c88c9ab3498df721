"""The price table: dollars per million tokens, per model (settings.USAGE["PRICES"])."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

MILLION = Decimal(1_000_000)


def price_for(model: str) -> dict[str, Decimal] | None:
    """{"input", "cached_input", "output"} for `model` (or its dated snapshot's base
    name, e.g. gpt-4.1-mini-2025-04-14), None when the table has no price for it."""
    table = settings.USAGE["PRICES"]
    entry = table.get(model)
    if entry is None:
        # The longest name that prefixes it: gpt-4.1-mini-… is gpt-4.1-mini, not gpt-4.1.
        bases = [name for name in table if model.startswith(f"{name}-")]
        base = max(bases, key=len) if bases else None
        entry = table.get(base) if base else None
    if entry is None:
        return None
    prices = {kind: Decimal(str(entry.get(kind, 0))) for kind in ("input", "output")}
    prices["cached_input"] = Decimal(str(entry.get("cached_input", entry.get("input", 0))))
    return prices


def turn_cost(
    *, model: str, input_tokens: int, cached_input_tokens: int, output_tokens: int
) -> Decimal | None:
    """A turn's cost in dollars; cached input tokens are part of the input, at their price."""
    prices = price_for(model)
    if prices is None:
        return None
    cached = min(cached_input_tokens, input_tokens)
    total = (
        (input_tokens - cached) * prices["input"]
        + cached * prices["cached_input"]
        + output_tokens * prices["output"]
    )
    return total / MILLION
