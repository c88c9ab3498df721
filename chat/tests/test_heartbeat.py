"""SSE heartbeats while the model is silent: comments between events, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http import HTTPStatus

import pytest

from chat.heartbeat import HEARTBEAT, with_heartbeat
from chat.tests import chatkit_client as ck


class Source:
    """Yields `first`, then waits until released, then yields `second`."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancelled = False

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            yield b"first"
            await self.release.wait()
            yield b"second"
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_silence_gets_heartbeats_and_every_chunk_still_arrives_in_order() -> None:
    source = Source()
    stream = with_heartbeat(source.chunks(), interval=0.01)

    assert await anext(stream) == b"first"
    assert await anext(stream) == HEARTBEAT  # the source is silent until released
    source.release.set()
    rest = [chunk async for chunk in stream]

    assert [chunk for chunk in rest if chunk != HEARTBEAT] == [b"second"]


async def test_a_busy_stream_gets_no_heartbeat_and_keeps_every_byte_in_order() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for n in range(500):
            yield f"{n},".encode()

    relayed = [chunk async for chunk in with_heartbeat(chunks(), interval=60)]
    assert HEARTBEAT not in relayed
    # Chunks produced while a write was out may leave together, never reordered.
    assert b"".join(relayed) == b"".join(f"{n},".encode() for n in range(500))


async def test_chunks_closer_than_the_interval_never_get_a_heartbeat() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for n in range(15):  # 0.3 s in all, never 0.2 s of silence
            await asyncio.sleep(0.02)
            yield f"{n},".encode()

    relayed = [chunk async for chunk in with_heartbeat(chunks(), interval=0.2)]

    assert HEARTBEAT not in relayed


async def test_no_heartbeat_right_after_a_slow_write() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0.55)
        yield b"b"

    relayed = []
    async for chunk in with_heartbeat(chunks(), interval=0.2):
        relayed.append(chunk)
        if chunk == b"a":
            await asyncio.sleep(0.5)  # a slow client: the write takes 0.5 s

    # Silence counts from the end of the write: 0.05 s before "b", no heartbeat.
    assert relayed == [b"a", b"b"]


async def test_closing_the_stream_cancels_the_producer() -> None:
    source = Source()
    stream = with_heartbeat(source.chunks(), interval=60)
    assert await anext(stream) == b"first"

    await stream.aclose()  # what a client disconnect does to the response

    assert source.cancelled


async def test_a_producer_error_reaches_the_consumer() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"ok"
        raise RuntimeError("boom")

    stream = with_heartbeat(chunks(), interval=60)
    assert await anext(stream) == b"ok"
    with pytest.raises(RuntimeError, match="boom"):
        await anext(stream)


async def test_zero_interval_turns_heartbeats_off() -> None:
    source = Source()
    source.release.set()
    assert [c async for c in with_heartbeat(source.chunks(), interval=0)] == [b"first", b"second"]


@pytest.mark.django_db(transaction=True)
async def test_chatkit_stream_carries_heartbeats_while_the_model_is_slow(
    async_client, user, bearer, settings
) -> None:
    # Chunks 200 ms apart, a heartbeat after 50 ms of silence.
    settings.CHATKIT = {
        **settings.CHATKIT,
        "OFFLINE_TOKEN_DELAY_MS": 200,
        "HEARTBEAT_SECONDS": 0.05,
    }
    response = await async_client.post(
        "/chatkit", ck.create_thread("hello"), content_type="application/json", headers=bearer(user)
    )
    assert response.status_code == HTTPStatus.OK
    raw = await ck.read_stream(response.streaming_content)

    assert HEARTBEAT in raw
    events = ck.parse_sse(raw)
    assert events[0].type == "thread.created"
    assert ck.assistant_text(events)
