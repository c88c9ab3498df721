"""config/async_cache.py: the same answers from Redis (one round trip, on the loop)
and from the in-process cache (inline)."""

import time
import uuid

import pytest
import redis
from django.core.cache import caches

from config import async_cache


@pytest.fixture(params=["locmem", "redis"])
def backend(request, settings):
    prefix = f"test-{uuid.uuid4().hex}"
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": async_cache.REDIS_BACKEND,
                "LOCATION": "redis://127.0.0.1:6379/0",
                "KEY_PREFIX": prefix,
            }
        }
    else:
        settings.CACHES = {"default": {"BACKEND": async_cache.LOCMEM_BACKEND, "LOCATION": prefix}}
    yield request.param
    caches["default"].clear()


@pytest.fixture
def key() -> str:
    return f"k-{uuid.uuid4().hex}"


async def test_add_sets_only_a_missing_key(backend, key):
    assert await async_cache.add(key, "first", 60)
    assert not await async_cache.add(key, "second", 60)


async def test_delete_if_leaves_another_holders_value(backend, key):
    await async_cache.add(key, "mine", 60)

    assert not await async_cache.delete_if(key, "not mine")
    assert not await async_cache.add(key, "x", 60)

    assert await async_cache.delete_if(key, "mine")
    assert await async_cache.add(key, "x", 60)


async def test_replace_if_takes_over_only_the_named_holders_value(backend, key):
    await async_cache.add(key, "dead", 60)

    assert not await async_cache.replace_if(key, "someone else", "mine", 60)
    assert await async_cache.get_many([key]) == ["dead"]
    assert await async_cache.replace_if(key, "dead", "mine", 60)
    assert await async_cache.get_many([key]) == ["mine"]
    assert not await async_cache.replace_if(key, "dead", "late", 60)  # one winner

    missing = f"{key}-missing"
    assert not await async_cache.replace_if(missing, "dead", "mine", 60)
    assert await async_cache.get_many([missing]) == [None]


async def test_hits_count_up_within_one_window(backend, key):
    counts = [await async_cache.hit(key, 30) for _ in range(3)]

    assert [count for count, _ in counts] == [1, 2, 3]
    assert all(1 <= left <= 30 for _, left in counts)


async def test_touch_if_leaves_another_holders_ttl(backend, key):
    await async_cache.add(key, "v", 1)
    await async_cache.touch_if(key, "not v", 60)
    if backend == "redis":
        ttl = redis.Redis.from_url("redis://127.0.0.1:6379/0").ttl(async_cache._key(key))
        assert ttl <= 1
    else:
        cache = caches["default"]
        assert cache._expire_info[cache.make_key(key)] <= time.time() + 1


async def test_touch_if_keeps_its_holders_key_past_its_first_ttl(backend, key):
    await async_cache.add(key, "v", 1)
    await async_cache.touch_if(key, "v", 60)
    if backend == "redis":
        ttl = redis.Redis.from_url("redis://127.0.0.1:6379/0").ttl(async_cache._key(key))
        assert 1 < ttl <= 60
    else:
        cache = caches["default"]
        assert cache._expire_info[cache.make_key(key)] > time.time() + 30


async def test_redis_keys_are_the_default_caches_own(settings, key):
    settings.CACHES = {
        "default": {
            "BACKEND": async_cache.REDIS_BACKEND,
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    await async_cache.add(key, "v", 60)
    # Django's client sees the same key (its value is ours, unpickled: raw bytes).
    assert caches["default"].has_key(key)
    caches["default"].delete(key)
