"""A light publisher for channels_redis's pub/sub layer (a shortcut on its private API,
off with CHATKIT_FAST_PATHS=0: docs/performance.md, "Shortcuts on private APIs").

redis-py's client costs about 340k instructions a command; a PUBLISH written on a plain
asyncio stream about 75k. Each chat turn announces itself twice (chat/live.py), which
was half of what detaching a turn cost (docs/performance.md, "Runs: the cost of
detaching, third pass"). It publishes on the layer's own group channel with the layer's
own serialization, so the layer's subscribers read it as their own; it serves one plain
`redis://` host only (TLS, sockets and shards keep the layer's own send).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import decode_hosts

# A publish that takes longer than this (connecting included) failed: Redis is away.
PUBLISH_TIMEOUT_SECONDS = 5.0


class PublishError(Exception):
    """Redis refused a command (an error reply)."""


class Publisher:
    """PUBLISH to a channels_redis pub/sub layer's groups on one connection of its own,
    for one event loop: commands are written as they come and their replies read in
    order by one reader task (so concurrent sends share round trips). A lost connection
    fails the sends waiting on it; the next send opens a new one."""

    def __init__(self, layer: RedisPubSubChannelLayer, address: tuple[str, int, str, str]) -> None:
        self.layer = layer
        self.host, self.port, self.username, self.password = address
        self.writer: asyncio.StreamWriter | None = None
        self.replies: deque[asyncio.Future[None]] = deque()
        self.opening = asyncio.Lock()
        self.reader_task: asyncio.Task[None] | None = None

    async def publish(self, group: str, message: dict[str, Any]) -> None:
        # The layer's own channel name and serialization: its subscribers read it.
        channel = self.layer._get_layer()._get_group_channel_name(group)
        command = _command(b"PUBLISH", channel.encode(), self.layer.serialize(message))
        async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
            if self.writer is None:
                async with self.opening:
                    if self.writer is None:
                        await self._open()
            assert self.writer is not None
            reply = asyncio.get_running_loop().create_future()
            self.replies.append(reply)
            self.writer.write(command)
            await reply

    async def _open(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            if self.password:
                auth = [self.username.encode()] if self.username else []
                writer.write(_command(b"AUTH", *auth, self.password.encode()))
                line = await reader.readline()
                if not line.startswith(b"+"):
                    raise PublishError(line.decode(errors="replace").strip() or "no reply")
        except BaseException:
            writer.close()
            raise
        self.writer = writer
        self.reader_task = asyncio.get_running_loop().create_task(self._read(reader, writer))

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        failure: BaseException = ConnectionResetError("Redis closed the connection")
        try:
            while line := await reader.readline():
                reply = self.replies.popleft()
                if reply.done():  # its sender gave up (timed out, cancelled)
                    continue
                if line.startswith(b"-"):
                    reply.set_exception(PublishError(line[1:].decode(errors="replace").strip()))
                else:
                    reply.set_result(None)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting sends (logged there)
            failure = exc
        finally:
            if self.writer is writer:
                self.writer = None
            writer.close()
            replies, self.replies = self.replies, deque()
            for reply in replies:
                if not reply.done():
                    reply.set_exception(ConnectionResetError(str(failure)))


def _command(*parts: bytes) -> bytes:
    """A Redis command in RESP."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


# The running loop's publisher, with the layer it was made for.
_publishers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Publisher | None]] = (
    weakref.WeakKeyDictionary()
)


def publisher_for(layer: Any, loop: asyncio.AbstractEventLoop) -> Publisher | None:
    """This loop's publisher for `layer`; None when the layer's own send is used."""
    held = _publishers.get(loop)
    if held is not None and held[0] is layer:
        return held[1]
    address = _plain_address(layer)
    publisher = Publisher(layer, address) if address is not None else None
    _publishers[loop] = (layer, publisher)
    return publisher


def _plain_address(layer: Any) -> tuple[str, int, str, str] | None:
    """(host, port, username, password) of a pub/sub layer on one `redis://` host;
    None for anything else (TLS, a socket path, sentinels, shards, another layer)."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    try:
        hosts = decode_hosts(layer._kwargs.get("hosts"))
    except Exception:  # noqa: BLE001 - whatever the layer accepts, it sends itself
        return None
    if len(hosts) != 1 or set(hosts[0]) != {"address"} or not isinstance(hosts[0]["address"], str):
        return None
    url = urlsplit(hosts[0]["address"])
    if url.scheme != "redis" or not url.hostname or url.query:
        return None
    return (
        url.hostname,
        url.port or 6379,
        unquote(url.username or ""),
        unquote(url.password or ""),
    )
