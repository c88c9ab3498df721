"""The few cache operations a chat turn needs, awaited on the event loop itself.

Django's cache API is synchronous: from an async view every call is a trip to a
worker thread and back, and each request context builds its own Redis client, so
a turn paid for three thread hops and a fresh Redis connection (docs/performance.md).
Here, with Redis configured as the default cache, one `redis.asyncio` client per
event loop (a bounded, shared pool) answers each operation in one round trip, the
compound ones as one Lua script. With the in-process LocMemCache (development and
tests, one worker) the same operations run inline: they never block. Any other
backend goes through a worker thread, as Django would. With CHATKIT_FAST_PATHS=0 every
operation goes through Django's cache API (`cache.aadd`, `aincr`, ...) instead.

Keys are the default cache's own (`KEY_PREFIX:VERSION:key`), so an operator sees
them beside Django's. Failures raise: callers decide whether to fail open.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
import weakref
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis import asyncio as aioredis

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
LOCMEM_BACKEND = "django.core.cache.backends.locmem.LocMemCache"
# Enough for hundreds of concurrent turns (each holds a connection for one round
# trip); a burst beyond it waits for a free connection instead of failing.
MAX_CONNECTIONS = 64
POOL_WAIT_SECONDS = 5

# INCR the window's counter; the first hit opens the window (its TTL). -> {count, ms left}
_HIT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""
# Delete the key only while it still holds our token (a lock we own).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Extend the key's TTL only while it holds our token (a lock we still own).
_TOUCH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# Set the key to a new value (and TTL) only while it holds the old one (taking over a
# dead holder's lock in one step).
_REPLACE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[tuple, aioredis.Redis]] = (
    weakref.WeakKeyDictionary()
)


def _config() -> dict[str, Any]:
    return settings.CACHES["default"]


def full_key(key: str) -> str:
    """`key` as stored in Redis (the default cache's prefix and version)."""
    return _key(key)


def redis_client() -> aioredis.Redis | None:
    """This event loop's Redis client for the default cache; None when it is not Redis.
    (For what needs Redis itself, whatever CHATKIT_FAST_PATHS says: runs/mirror.py,
    usage/quota.py's budget script.)"""
    return _loop_client()


def _key(key: str) -> str:
    config = _config()
    return f"{config.get('KEY_PREFIX', '')}:{config.get('VERSION', 1)}:{key}"


def _redis() -> aioredis.Redis | None:
    """The client this module's cache operations use; None when the cache is not Redis,
    or with CHATKIT_FAST_PATHS=0 (Django's cache API then serves every operation)."""
    return _loop_client() if settings.CHATKIT_FAST_PATHS else None


def _loop_client() -> aioredis.Redis | None:
    """This loop's client for the default cache's Redis; None when it is not Redis."""
    config = _config()
    if config["BACKEND"] != REDIS_BACKEND:
        return None
    options = config.get("OPTIONS", {})
    signature = (config["LOCATION"], tuple(sorted(options.items())))
    loop = asyncio.get_running_loop()
    held = _clients.get(loop)
    if held is not None and held[0] == signature:
        return held[1]
    pool = aioredis.BlockingConnectionPool.from_url(
        config["LOCATION"],
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_SECONDS,
        socket_connect_timeout=options.get("socket_connect_timeout", 1),
        socket_timeout=options.get("socket_timeout", 1),
    )
    client = aioredis.Redis(connection_pool=pool)
    _clients[loop] = (signature, client)
    return client


def redis_key(key: str) -> str:
    return _key(key)


async def _django(method: str, *args: Any) -> Any:
    cache = caches["default"]
    if not settings.CHATKIT_FAST_PATHS:
        return await getattr(cache, f"a{method}")(*args)  # Django's own async API
    call = getattr(cache, method)
    if _config()["BACKEND"] == LOCMEM_BACKEND:
        return call(*args)  # process memory behind a lock: never blocks the loop
    return await sync_to_async(call, thread_sensitive=False)(*args)


async def add(key: str, value: str, ttl: int) -> bool:
    """Set `key` unless it exists (atomic); True when this call set it."""
    client = _redis()
    if client is None:
        return bool(await _django("add", key, value, ttl))
    return bool(await client.set(_key(key), value, nx=True, ex=ttl))


async def touch_if(key: str, value: str, ttl: int) -> None:
    """Give `key` a new TTL if it still holds `value` (atomic with Redis)."""
    client = _redis()
    if client is None:
        if await _django("get", key) == value:
            await _django("touch", key, ttl)
    else:
        await client.eval(_TOUCH, 1, _key(key), value, ttl)


async def delete(key: str) -> None:
    """Delete `key` whoever set it (a dead worker's lock)."""
    client = _redis()
    if client is None:
        await _django("delete", key)
    else:
        await client.delete(_key(key))


async def delete_if(key: str, value: str) -> bool:
    """Delete `key` if it still holds `value` (atomic with Redis); True if it did."""
    client = _redis()
    if client is None:
        if await _django("get", key) == value:
            return bool(await _django("delete", key))
        return False
    return bool(await client.eval(_RELEASE, 1, _key(key), value))


async def replace_if(key: str, old: str, new: str, ttl: int) -> bool:
    """Set `key` to `new` for `ttl` seconds if it still holds `old`; True if it did.
    Atomic with Redis; through Django's cache API, one of several callers replacing
    the same `old` wins (an `add` of a key named after it decides)."""
    client = _redis()
    if client is None:
        if await _django("get", key) != old:
            return False
        claim = f"{key}:replacing:{hashlib.sha256(old.encode()).hexdigest()[:32]}"
        if not await _django("add", claim, 1, ttl):
            return False
        await _django("set", key, new, ttl)
        return True
    return bool(await client.eval(_REPLACE, 1, _key(key), old, new, ttl))


async def get_many(keys: list[str]) -> list[Any]:
    """The values of `keys`, None for a missing one (one MGET with Redis)."""
    if not keys:
        return []
    client = _redis()
    if client is None:
        found = await _django("get_many", keys)
        return [found.get(key) for key in keys]
    values = await client.mget([_key(key) for key in keys])
    return [value.decode() if isinstance(value, bytes) else value for value in values]


async def hit(key: str, window: int) -> tuple[int, int]:
    """Count a hit in `key`'s window, which opens at its first hit and lasts `window`
    seconds. Returns (hits so far in the window, whole seconds until it closes)."""
    client = _redis()
    if client is None:
        return await _django_hit(key, window)
    count, left_ms = await client.eval(_HIT, 1, _key(key), window * 1000)
    return int(count), max(1, math.ceil(int(left_ms) / 1000))


async def _django_hit(key: str, window: int) -> tuple[int, int]:
    start_key, now = f"{key}:start", time.time()
    if await _django("add", key, 1, window):
        await _django("set", start_key, now, window)
        return 1, window
    try:
        count = await _django("incr", key)
    except ValueError:  # expired between add and incr: a new window opens
        await _django("set", key, 1, window)
        await _django("set", start_key, now, window)
        return 1, window
    started = await _django("get", start_key)
    opened = started if isinstance(started, int | float) else now
    return count, max(1, math.ceil(opened + window - now))


@receiver(setting_changed)
def _forget_clients(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        _clients.clear()
