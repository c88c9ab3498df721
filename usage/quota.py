"""Daily token budgets (CHATKIT_USER_DAILY_TOKENS), checked with the rate limit in one
round trip, exact under concurrency across workers.

Per user and UTC day the cache holds what was spent (real tokens of finished turns)
and what running turns hold in reserve. A turn starts only while spent + reserved is
under the budget, and then reserves its size: the larger of TURN_RESERVE_TOKENS and
the user's last turn. When it ends, its reserve is given back and its real tokens
are spent. So every started turn is counted (at least as its reserve) before the
next one is judged, and while no turn uses more than its reserve, the day's total
exceeds the budget by at most the one turn that crossed it, however many turns race.

With Redis (REDIS_URL) one Lua script counts the rate limit's hit and takes the
reserve: one round trip, atomic across every worker. Without it (one process, as in
development) the same arithmetic runs in this process's memory under a lock. The
cache being down lets turns through (logged), as the rate limit does.
"""

from __future__ import annotations

import datetime
import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings

from config import async_cache

logger = logging.getLogger(__name__)

# A day's counters outlive it by a day (a turn that crosses midnight settles on the
# day it started); the user's last turn size is remembered as long.
KEEP_SECONDS = 2 * 86400

# KEYS: rate counter, the day's quota hash, the user's last turn size.
# ARGV: window ms, rate limit, budget, least reserve, quota TTL s.
# -> {rate count, rate ms left, verdict (reserve taken; 0: no budget; -1: rate; -2: quota), spent}
_ADMIT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
if count > tonumber(ARGV[2]) then return {count, left, -1, 0} end
local budget = tonumber(ARGV[3])
local spent = tonumber(redis.call('HGET', KEYS[2], 'spent') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0')
if spent + reserved >= budget then return {count, left, -2, spent} end
local reserve = math.max(tonumber(ARGV[4]), tonumber(redis.call('GET', KEYS[3]) or '0'))
redis.call('HINCRBY', KEYS[2], 'reserved', reserve)
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {count, left, reserve, spent}
"""
# KEYS: the day's quota hash, the user's last turn size. ARGV: tokens, reserve, TTL s.
_SETTLE = """
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
if redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(ARGV[2])) < 0 then
  redis.call('HSET', KEYS[1], 'reserved', 0)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
if tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3]) end
return 1
"""

Verdict = Literal["admitted", "rate_limit", "quota"]


@dataclass
class Reservation:
    """The budget a running turn holds; settled once, with its real tokens."""

    user_id: int
    day: datetime.date
    tokens: int
    claimed: bool = field(default=False)


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    retry_after: int = 0  # seconds: the rate window's end, or the next UTC day
    spent: int = 0
    reservation: Reservation | None = None


def daily_budget() -> int | None:
    return settings.USAGE["DAILY_TOKENS"]


def day_of(now: datetime.datetime) -> datetime.date:
    return now.astimezone(datetime.UTC).date()


def next_reset(now: datetime.datetime) -> datetime.datetime:
    """The next UTC midnight after `now`."""
    day = day_of(now) + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def seconds_to_reset(now: datetime.datetime) -> int:
    return max(1, math.ceil((next_reset(now) - now).total_seconds()))


def _quota_key(user_id: int, day: datetime.date) -> str:
    return f"quota:{user_id}:{day.isoformat()}"


def _last_key(user_id: int) -> str:
    return f"quota:last:{user_id}"


class _Local:
    """The same counters in this process's memory (no Redis: one worker)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.days: dict[tuple[int, datetime.date], list[int]] = {}  # [spent, reserved]
        self.last: dict[int, int] = {}

    def admit(self, user_id: int, day: datetime.date, budget: int, least: int) -> tuple[int, int]:
        with self.lock:
            for key in [key for key in self.days if key[1] < day - datetime.timedelta(days=1)]:
                del self.days[key]
            counters = self.days.setdefault((user_id, day), [0, 0])
            if counters[0] + counters[1] >= budget:
                return -2, counters[0]
            reserve = max(least, self.last.get(user_id, 0))
            counters[1] += reserve
            return reserve, counters[0]

    def settle(self, reservation: Reservation, tokens: int) -> None:
        with self.lock:
            counters = self.days.setdefault((reservation.user_id, reservation.day), [0, 0])
            counters[0] += tokens
            counters[1] = max(0, counters[1] - reservation.tokens)
            if tokens > 0:
                self.last[reservation.user_id] = tokens


_local = _Local()


async def admit_turn(
    *, user_id: int, rate_key: str, rate_limit: int, window: int, now: datetime.datetime
) -> Admission:
    """Count the turn against the rate limit and, if it passes, reserve its budget."""
    budget = daily_budget()
    assert budget is not None, "admit_turn is for a configured budget"
    least = int(settings.USAGE["TURN_RESERVE_TOKENS"])
    day = day_of(now)
    try:
        client = async_cache.redis_client()
        if client is not None:
            keys = (rate_key, _quota_key(user_id, day), _last_key(user_id))
            count, left_ms, verdict, spent = await client.eval(
                _ADMIT,
                3,
                *(async_cache.full_key(key) for key in keys),
                window * 1000,
                rate_limit,
                budget,
                least,
                KEEP_SECONDS,
            )
            rate_left = max(1, math.ceil(int(left_ms) / 1000))
        else:
            count, rate_left = await async_cache.hit(rate_key, window)
            verdict, spent = (
                (-1, 0) if count > rate_limit else _local.admit(user_id, day, budget, least)
            )
    except Exception:  # the cache being down must not stop chat
        logger.warning("Budget cache unavailable; allowing the turn", exc_info=True)
        return Admission("admitted")
    verdict, spent = int(verdict), int(spent)
    if verdict == -1:
        return Admission("rate_limit", retry_after=rate_left)
    if verdict == -2:
        return Admission("quota", retry_after=seconds_to_reset(now), spent=spent)
    return Admission("admitted", spent=spent, reservation=Reservation(user_id, day, verdict))


async def settle(reservation: Reservation, tokens: int) -> None:
    """Give back the turn's reserve and spend its real tokens (once per reservation)."""
    try:
        client = async_cache.redis_client()
        if client is None:
            _local.settle(reservation, tokens)
            return
        keys = (_quota_key(reservation.user_id, reservation.day), _last_key(reservation.user_id))
        await client.eval(
            _SETTLE,
            2,
            *(async_cache.full_key(key) for key in keys),
            tokens,
            reservation.tokens,
            KEEP_SECONDS,
        )
    except Exception:
        logger.warning("Could not settle a turn's budget (it expires with the day)", exc_info=True)


def claim(reservation: Reservation | None) -> Reservation | None:
    """The reservation, for the one caller that settles it; None if already claimed."""
    if reservation is None or reservation.claimed:
        return None
    reservation.claimed = True
    return reservation


async def release_unused(reservation: Reservation | None) -> None:
    """Give back a reserve no model run claimed (a request that ended without one)."""
    unused = claim(reservation)
    if unused is not None:
        await settle(unused, 0)


def quota_message(*, budget: int, spent: int, now: datetime.datetime) -> str:
    """What a refused user reads: what is left and when it comes back."""
    left = max(0, budget - spent)
    wait = next_reset(now) - now
    hours, minutes = divmod(max(1, math.ceil(wait.total_seconds() / 60)), 60)
    when = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return (
        f"You've used today's token budget ({budget:,} tokens; {left:,} left). "
        f"It resets at 00:00 UTC, in {when}."
    )
