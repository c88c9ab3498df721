"""Usage accounting (the `usage` app): prices, daily token budgets, /metrics."""

from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str

# Dollars per million tokens; CHATKIT_PRICES (JSON, same shape) adds or replaces models.
# A turn's cost is computed when it ends and stored with it.
_DEFAULT_PRICES = {
    "gpt-4.1": {"input": 2.00, "cached_input": 0.50, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "cached_input": 0.10, "output": 1.60},
    "gpt-4.1-nano": {"input": 0.10, "cached_input": 0.025, "output": 0.40},
    "gpt-4o": {"input": 2.50, "cached_input": 1.25, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
    "offline": {"input": 0, "cached_input": 0, "output": 0},
}


def _prices() -> dict[str, dict[str, float]]:
    raw = env_str("CHATKIT_PRICES")
    if raw is None:
        return _DEFAULT_PRICES
    try:
        extra = json.loads(raw)
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise ValueError("not an object of objects")
    except ValueError as exc:
        raise ImproperlyConfigured(
            'CHATKIT_PRICES must be JSON like {"model": {"input": 0.4, "cached_input": 0.1, '
            f'"output": 1.6}}}} (dollars per million tokens): {exc}'
        ) from exc
    return {**_DEFAULT_PRICES, **extra}


_daily_tokens_set = env_str("CHATKIT_USER_DAILY_TOKENS") is not None
USAGE = {
    "PRICES": _prices(),
    # Model tokens (input + output) one user may spend per UTC day; None: no budget.
    "DAILY_TOKENS": env_int("CHATKIT_USER_DAILY_TOKENS", 0) if _daily_tokens_set else None,
    # What a turn holds of the budget while it runs, until its real tokens are known
    # (at least this, or the user's last turn if that was bigger): usage/quota.py.
    "TURN_RESERVE_TOKENS": env_int("CHATKIT_TURN_RESERVE_TOKENS", 4000),
    # Bearer token of GET /metrics; None: /metrics answers 404.
    "METRICS_TOKEN": env_str("METRICS_TOKEN"),
}
