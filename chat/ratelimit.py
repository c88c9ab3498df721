"""Per-user turn limits in the cache (Redis when REDIS_URL is set, so every
worker shares them): a fixed window per user, one cache round trip a turn."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from chat.context import RequestContext
from config import async_cache
from config.exceptions import QuotaExceeded, RateLimited
from usage import metrics, quota
from usage.services import turn_record

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


async def acheck_chat_turn(*, user_id: int, context: RequestContext | None = None) -> None:
    """Raise RateLimited when the user is over CHATKIT_RATE_LIMIT, QuotaExceeded when
    over today's CHATKIT_USER_DAILY_TOKENS (both in one cache round trip); an admitted
    turn's budget reservation goes into `context`."""
    rate = parse_rate(settings.CHATKIT["RATE_LIMIT"])
    key = f"chat:{user_id}"
    budget = quota.daily_budget()
    if budget is None:
        retry_after = await ahit(key=key, rate=rate)
        if retry_after is not None:
            metrics.refused("rate_limit")
            raise RateLimited(retry_after)
        return
    now = timezone.now()
    admission = await quota.admit_turn(
        user_id=user_id,
        rate_key=f"rl:{key}:{rate.window}",
        rate_limit=rate.limit,
        window=rate.window,
        now=now,
    )
    if admission.verdict == "rate_limit":
        metrics.refused("rate_limit")
        raise RateLimited(admission.retry_after)
    if admission.verdict == "quota":
        _record_refusal(user_id)
        message = quota.quota_message(budget=budget, spent=admission.spent, now=now)
        raise QuotaExceeded(message, admission.retry_after)
    if context is not None:
        context.quota_reservation = admission.reservation
    elif admission.reservation is not None:
        await quota.release_unused(admission.reservation)


def _record_refusal(user_id: int) -> None:
    """A usage row for a turn refused by the budget (bounded by the rate limit)."""
    from chat.agent import get_model, model_label

    turn_record(
        user_id=user_id,
        thread_id="",
        model=model_label(get_model()),
        result=None,
        started=time.monotonic(),
        first_token_at=None,
        outcome="refused",
        error_kind="quota",
    )
