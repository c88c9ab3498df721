import uuid

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from chat.ratelimit import Rate, acheck_chat_turn, ahit, parse_rate
from config.exceptions import RateLimited


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("30/minute", Rate(30, 60)),
        ("5/second", Rate(5, 1)),
        ("100/hour", Rate(100, 3600)),
        ("2/day", Rate(2, 86400)),
        ("10/5minutes", Rate(10, 300)),
        (" 7 / Minute ", Rate(7, 60)),
    ],
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "30", "30/fortnight", "-1/minute", "a/minute"])
def test_parse_rate_rejects_nonsense(text):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(text)


@pytest.fixture
def fresh_key() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_hits_within_limit_pass_and_the_next_waits(fresh_key):
    rate = Rate(limit=3, window=60)
    assert [await ahit(key=fresh_key, rate=rate) for _ in range(3)] == [None, None, None]
    retry_after = await ahit(key=fresh_key, rate=rate)
    assert retry_after is not None
    assert 1 <= retry_after <= 60


async def test_limits_are_per_key(fresh_key):
    rate = Rate(limit=1, window=60)
    assert await ahit(key=fresh_key, rate=rate) is None
    assert await ahit(key=fresh_key + "-other", rate=rate) is None
    assert await ahit(key=fresh_key, rate=rate) is not None


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield caches["default"]
    caches["default"].clear()


async def test_the_limit_holds_through_redis(redis_cache, settings):
    # Sharing across processes is proven by config/tests/test_multiworker.py.
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "2/minute"}
    await acheck_chat_turn(user_id=1)
    await acheck_chat_turn(user_id=1)
    with pytest.raises(RateLimited) as excinfo:
        await acheck_chat_turn(user_id=1)
    assert excinfo.value.headers["Retry-After"].isdigit()


async def test_an_unreachable_cache_fails_open(settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "1/minute"}
    await acheck_chat_turn(user_id=1)
    await acheck_chat_turn(user_id=1)
    assert "Rate limit cache unavailable" in caplog.text
