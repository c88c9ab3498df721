"""Per-user turn limits in the cache (Redis when REDIS_URL is set, so every
worker shares them): a fixed window per user, one cache round trip a turn."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config import async_cache
from config.exceptions import RateLimited

logger = logging.getLogger(__name__)

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds


def parse_rate(text: str) -> Rate:
    """`30/minute`, `5/second`, `100/hour`, `10/5minutes` → Rate."""
    match = _RATE.match(text)
    if not match:
        raise ImproperlyConfigured(f"CHATKIT_RATE_LIMIT must look like '30/minute', got {text!r}.")
    count, multiple, unit = match.groups()
    return Rate(limit=int(count), window=int(multiple or 1) * _UNITS[unit.lower()])


async def ahit(*, key: str, rate: Rate) -> int | None:
    """Count one hit; return seconds to wait when over the limit, else None.

    The window opens at a key's first hit and lasts `rate.window` seconds (the
    counter's TTL; INCR keeps it), so there is no shared boundary where bursts
    double up and no test can straddle one. One Redis round trip, no thread hop
    (config/async_cache.py)."""
    try:
        count, seconds_left = await async_cache.hit(f"rl:{key}:{rate.window}", rate.window)
    except Exception:  # the cache being down must not stop chat
        # Fail open: an unavailable Redis costs us the limit, not the service.
        logger.warning("Rate limit cache unavailable; allowing the request", exc_info=True)
        return None
    return None if count <= rate.limit else seconds_left


async def acheck_chat_turn(*, user_id: int) -> None:
    """Raise RateLimited when the user is over CHATKIT_RATE_LIMIT."""
    retry_after = await ahit(key=f"chat:{user_id}", rate=parse_rate(settings.CHATKIT["RATE_LIMIT"]))
    if retry_after is not None:
        raise RateLimited(retry_after)
