"""Best-effort group sends (config/broadcast.py)."""

from __future__ import annotations

import asyncio
import logging
import uuid

from channels.layers import get_channel_layer

from config import broadcast, layer_publisher


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


async def the_one_warning_of_three_failed_sends(caplog) -> logging.LogRecord:
    """Send three changes from async code to an unreachable layer: the one record they
    leave, a warning without a traceback."""
    for number in range(3):
        broadcast.send_to_group("test-broadcast", {"type": "hello"}, what=f"change {number}")
    await asyncio.gather(*broadcast.sending, return_exceptions=True)
    await asyncio.sleep(0)  # the done callbacks
    [warning] = broadcast_records(caplog)
    assert warning.levelno == logging.WARNING and warning.exc_info is None
    return warning


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
    await the_one_warning_of_three_failed_sends(caplog)

    use_layer(settings, None)
    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a change")
    await asyncio.gather(*broadcast.sending)
    await asyncio.sleep(0)
    assert [r.levelno for r in broadcast_records(caplog)] == [logging.WARNING, logging.INFO]


REDIS = "redis://127.0.0.1:6379/0"


def use_pubsub_layer(settings, host: str) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [host], "prefix": f"test-broadcast-{uuid.uuid4().hex[:12]}"},
        }
    }


async def test_a_send_on_its_own_connection_reaches_the_pubsub_layers_group(settings) -> None:
    # Published without the layer's client, read by the layer's own subscription: the
    # same channel and the same bytes.
    use_pubsub_layer(settings, REDIS)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("test-broadcast", channel)
    try:
        for number in range(3):  # several at once share the connection, in order
            broadcast.send_to_group("test-broadcast", {"type": "hello", "n": number}, what="x")
        received = [await asyncio.wait_for(layer.receive(channel), timeout=5) for _ in range(3)]
        assert received == [{"type": "hello", "n": number} for number in range(3)]
        await asyncio.gather(*broadcast.sending)
        publisher = layer_publisher.publisher_for(layer, asyncio.get_running_loop())
        assert publisher is not None and publisher.writer is not None
        # A lost connection is opened again by the next send.
        reading = publisher.reader_task
        assert reading is not None
        publisher.writer.transport.abort()
        await reading  # the reader sees the connection gone and lets go of it
        assert publisher.writer is None
        broadcast.send_to_group("test-broadcast", {"type": "again"}, what="x")
        assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "again"}
    finally:
        await layer.flush()


async def test_redis_down_is_logged_once_with_the_pubsub_layer_too(settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="config.broadcast")
    use_pubsub_layer(settings, REFUSING)
    loop = asyncio.get_running_loop()
    assert layer_publisher.publisher_for(get_channel_layer(), loop) is not None
    warning = await the_one_warning_of_three_failed_sends(caplog)
    assert "unreachable" in warning.getMessage()


def test_other_redis_addresses_are_sent_by_the_layer_itself(settings) -> None:
    for host in ("rediss://127.0.0.1:6379/0", "unix:///tmp/redis.sock", "redis://h:1/0?ssl=1"):
        use_pubsub_layer(settings, host)
        assert layer_publisher._plain_address(get_channel_layer()) is None
    use_pubsub_layer(settings, "redis://user:p%40ss@127.0.0.1:6380/2")
    address = layer_publisher._plain_address(get_channel_layer())
    assert address == ("127.0.0.1", 6380, "user", "p@ss")


async def test_with_the_shortcuts_off_the_layer_sends_itself(settings) -> None:
    use_pubsub_layer(settings, REDIS)
    settings.CHATKIT_FAST_PATHS = False
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("test-broadcast", channel)
    try:
        broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="x")
        assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "hello"}
        assert asyncio.get_running_loop() not in layer_publisher._publishers
    finally:
        await layer.flush()
