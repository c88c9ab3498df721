"""`thread.changed` on the user's socket: a thread created, a message sent, a title, a
turn's end and a delete on one worker reach a socket held open on another."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import websockets

from accounts.client_secrets import mint_client_secret
from accounts.models import User
from chat.models import Thread
from chat.tests import chatkit_client as ck

REDIS_URL = "redis://127.0.0.1:6379/0"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


async def changes_until(socket, thread_id: str, reason: str) -> list[str]:
    """The thread.changed reasons for `thread_id` up to and including `reason`."""
    seen: list[str] = []
    while reason not in seen:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
        if message.get("type") == "thread.changed" and message["thread_id"] == thread_id:
            seen.append(message["reason"])
    return seen


async def test_thread_changes_on_one_worker_reach_a_socket_on_another(
    run_server, user: User, other_user: User, token_for, settings
) -> None:
    prefix = f"test-runs-live-{uuid.uuid4().hex[:12]}"
    shared = {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix, "CHANNELS_PREFIX": prefix}
    # This process too (it stands in for the admin, another process on the same Redis).
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix},
        }
    }
    first = await asyncio.to_thread(run_server, env=shared)
    second = await asyncio.to_thread(run_server, env=shared, server="uvicorn")
    secret, _ = mint_client_secret(user=user)
    headers = {"Authorization": f"Bearer {token_for(user)}", "Content-Type": "application/json"}
    ws_url = f"ws://127.0.0.1:{second.port}/ws/todos/?token={secret}"

    async with (
        websockets.connect(ws_url, origin=second.url, open_timeout=10) as socket,
        httpx.AsyncClient(timeout=30) as client,
    ):

        async def chatkit(body: bytes) -> httpx.Response:
            response = await client.post(f"{first.url}/chatkit", content=body, headers=headers)
            assert response.status_code == 200, response.text
            return response

        created = await chatkit(ck.create_thread("hello there"))
        thread_id = ck.parse_sse(created.content)[0].thread.id
        seen = await changes_until(socket, thread_id, "status")
        assert seen[0] == "created" and {"item", "title"} <= set(seen)

        await chatkit(ck.add_message(thread_id, "list"))
        assert await changes_until(socket, thread_id, "status") == ["item", "status"]

        await chatkit(ck.update_thread(thread_id, "Renamed"))
        assert await changes_until(socket, thread_id, "title") == ["title"]

        await chatkit(ck.delete_thread(thread_id))
        assert await changes_until(socket, thread_id, "deleted") == ["deleted"]

        # A delete made through the ORM (the admin, the purge) too; and only the user's.
        theirs = await Thread.objects.acreate(id="thr_theirs", owner=other_user)
        mine = await Thread.objects.acreate(id="thr_mine_admin", owner=user)
        await theirs.adelete()
        await mine.adelete()
        heard = []
        while not heard or heard[-1] != "thr_mine_admin":
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
            heard.append(message.get("thread_id"))
        assert "thr_theirs" not in heard
