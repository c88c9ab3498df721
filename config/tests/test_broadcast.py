"""Best-effort group sends (config/broadcast.py)."""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from config import broadcast


async def test_a_send_from_async_code_is_held_until_it_is_done(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("test-broadcast", channel)

    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a test message")

    # Started in the background, and referenced until it finishes.
    [task] = broadcast.sending
    assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "hello"}
    await task
    await asyncio.sleep(0)  # its done callbacks, scheduled as it finished
    assert task not in broadcast.sending


REFUSING = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


def use_layer(settings, host: str | None) -> None:
    if host is None:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    else:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [host]},
            }
        }


def broadcast_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "config.broadcast"]


def test_redis_down_is_logged_once_per_outage_from_sync_code(settings, caplog) -> None:
    # Every change while Redis was down logged a whole traceback.
    caplog.set_level(logging.INFO, logger="config.broadcast")
    use_layer(settings, REFUSING)
    for number in range(3):
        broadcast.send_to_group("test-broadcast", {"type": "hello"}, what=f"change {number}")
    [warning] = broadcast_records(caplog)
    assert warning.levelno == logging.WARNING and warning.exc_info is None
    assert "unreachable" in warning.getMessage()

    use_layer(settings, None)  # back
    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a change")
    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a change")
    assert [r.levelno for r in broadcast_records(caplog)] == [logging.WARNING, logging.INFO]

    use_layer(settings, REFUSING)  # a second outage is logged again, once
    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a change")
    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a change")
    levels = [r.levelno for r in broadcast_records(caplog)]
    assert levels == [logging.WARNING, logging.INFO, logging.WARNING]
    use_layer(settings, None)
    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a change")


async def test_redis_down_is_logged_once_per_outage_from_async_code(settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="config.broadcast")
    use_layer(settings, REFUSING)
    for number in range(3):
        broadcast.send_to_group("test-broadcast", {"type": "hello"}, what=f"change {number}")
    await asyncio.gather(*broadcast.sending, return_exceptions=True)
    await asyncio.sleep(0)  # the done callbacks
    [warning] = broadcast_records(caplog)
    assert warning.levelno == logging.WARNING and warning.exc_info is None

    use_layer(settings, None)
    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a change")
    await asyncio.gather(*broadcast.sending)
    await asyncio.sleep(0)
    assert [r.levelno for r in broadcast_records(caplog)] == [logging.WARNING, logging.INFO]
