"""`/ws/todos/` end to end on the real ASGI application: whoever changes a todo
(REST, the admin, the agent), the owner's sockets hear it and nobody else's do.
Every test runs on the in-memory channel layer and on Redis at 127.0.0.1:6379."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connections
from django.test import AsyncClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from chat.sessions import mint_client_secret
from chat.tests.chatkit_client import create_thread
from config.asgi import application
from todos import events, services
from todos.consumers import CLOSE_UNAUTHENTICATED
from todos.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_HOST = "redis://127.0.0.1:6379/0"
ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")
SENTINEL_TITLE = "sentinel: nothing else was queued before me"

Connect = Callable[..., Awaitable[WebsocketCommunicator]]


@pytest.fixture(params=["in-memory", "redis"])
async def channel_layer(request, settings) -> AsyncIterator[str]:
    """Run the test on both channel layers (Redis with a key prefix of its own)."""
    if request.param == "redis":
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [REDIS_HOST], "prefix": f"test-h5-{uuid.uuid4().hex[:12]}"},
            }
        }
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    yield request.param
    layer = get_channel_layer()
    await layer.flush()
    if request.param == "redis":
        await layer.close_pools()


@pytest.fixture(autouse=True)
async def _close_worker_connections() -> AsyncIterator[None]:
    yield
    # Factories and services ran in sync_to_async's worker thread: close its
    # connection, or PostgreSQL refuses to drop the test database at the end.
    await sync_to_async(connections.close_all)()


async def session_cookie(user: User) -> bytes:
    client = AsyncClient()
    await client.aforce_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


@pytest.fixture
async def connect(channel_layer) -> AsyncIterator[Connect]:
    """connect(user=..., token=..., cookie=...) -> a connected communicator (closed after)."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(
        *, user: User | None = None, token: str | None = None, cookie: bytes | None = None
    ) -> WebsocketCommunicator:
        headers = [ORIGIN, HOST]
        if user is not None:
            cookie = await session_cookie(user)
        if cookie is not None:
            headers.append((b"cookie", cookie))
        path = "/ws/todos/" + (f"?token={token}" if token is not None else "")
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        opened.append(communicator)
        return communicator

    yield open_socket
    for communicator in opened:
        await communicator.disconnect()


async def next_event(socket: WebsocketCommunicator) -> dict[str, Any]:
    return await socket.receive_json_from(timeout=5)


async def assert_heard_nothing_else(socket: WebsocketCommunicator, user: User) -> None:
    """Channel layers deliver in order: a sentinel sent now arrives first only if
    nothing else was queued for this socket before it."""
    sentinel = {"id": 0, "title": SENTINEL_TITLE}
    await get_channel_layer().group_send(
        events.group_name(user.pk),
        {
            "type": events.MESSAGE_TYPE,
            "event": events.change_message(kind="updated", todo=sentinel),
        },
    )
    assert (await next_event(socket))["todo"]["title"] == SENTINEL_TITLE


async def test_rest_changes_reach_the_owner_socket_only(
    connect: Connect, user: User, other_user: User, bearer
) -> None:
    mine = await connect(user=user)
    second_tab = await connect(user=user)
    theirs = await connect(user=other_user)
    client = AsyncClient()
    auth = bearer(user)

    response = await client.post(
        "/api/todos/", {"title": "Buy milk"}, content_type="application/json", headers=auth
    )
    assert response.status_code == HTTPStatus.CREATED
    todo = response.json()
    for socket in (mine, second_tab):
        assert await next_event(socket) == {"type": "todo.created", "todo": todo}

    response = await client.patch(
        f"/api/todos/{todo['id']}/",
        {"completed": True},
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == HTTPStatus.OK
    updated = await next_event(mine)
    assert updated["type"] == "todo.updated"
    assert updated["todo"] == response.json()
    assert updated["todo"]["completed"] is True

    response = await client.delete(f"/api/todos/{todo['id']}/", headers=auth)
    assert response.status_code == HTTPStatus.NO_CONTENT
    deleted = await next_event(mine)
    assert deleted["type"] == "todo.deleted"
    assert deleted["todo"]["id"] == todo["id"]

    await assert_heard_nothing_else(theirs, other_user)


async def test_session_and_client_secret_sockets_both_hear_the_owner(
    connect: Connect, user: User
) -> None:
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    by_session = await connect(user=user)
    by_secret = await connect(token=secret)

    todo = await services.atodo_create(user=user, title="Water the plants")

    for socket in (by_session, by_secret):
        event = await next_event(socket)
        assert event["type"] == "todo.created"
        assert event["todo"]["id"] == todo.pk


async def test_admin_bulk_action_tells_each_owner_about_their_own_todos(
    connect: Connect, user: User, other_user: User
) -> None:
    admin_user = await sync_to_async(UserFactory)(is_staff=True, is_superuser=True)
    mine = await sync_to_async(TodoFactory)(owner=user, title="Mine")
    theirs = await sync_to_async(TodoFactory)(owner=other_user, title="Theirs")
    my_socket = await connect(user=user)
    their_socket = await connect(user=other_user)
    client = AsyncClient()
    await client.aforce_login(admin_user)

    response = await client.post(
        "/admin/todos/todo/",
        {"action": "mark_completed", "_selected_action": [mine.pk, theirs.pk]},
    )
    assert response.status_code == HTTPStatus.FOUND

    for socket, todo in ((my_socket, mine), (their_socket, theirs)):
        event = await next_event(socket)
        assert event["type"] == "todo.updated"
        assert (event["todo"]["id"], event["todo"]["completed"]) == (todo.pk, True)
    await assert_heard_nothing_else(my_socket, user)
    await assert_heard_nothing_else(their_socket, other_user)


async def test_agent_change_reaches_the_owner_socket_only(
    connect: Connect, user: User, other_user: User
) -> None:
    mine = await connect(user=user)
    theirs = await connect(user=other_user)
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    response = await AsyncClient().post(
        "/chatkit",
        create_thread("add buy milk"),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == HTTPStatus.OK
    stream = b"".join([chunk async for chunk in response.streaming_content])
    assert b"todos.changed" in stream

    event = await next_event(mine)
    assert event["type"] == "todo.created"
    assert event["todo"]["title"] == "buy milk"
    await assert_heard_nothing_else(theirs, other_user)


async def assert_refused(socket: WebsocketCommunicator) -> None:
    message = await socket.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_socket_without_session_or_token_is_closed_4401(connect: Connect) -> None:
    await assert_refused(await connect())


@pytest.mark.parametrize(
    "token",
    ["cks_not-a-real-secret", "garbage", ""],
    ids=["forged-client-secret", "not-a-secret", "empty"],
)
async def test_socket_with_a_bad_token_is_closed_4401(connect: Connect, token: str) -> None:
    await assert_refused(await connect(token=token))


async def test_socket_with_a_better_auth_jwt_as_token_is_closed_4401(
    connect: Connect, user: User, token_for
) -> None:
    # `?token=` takes ChatKit client secrets only (SPEC); JWTs go to the API.
    await assert_refused(await connect(token=token_for(user)))


async def test_socket_with_an_expired_client_secret_is_closed_4401(
    connect: Connect, user: User, settings
) -> None:
    settings.CHATKIT = {**settings.CHATKIT, "SESSION_TTL": -1}
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    await assert_refused(await connect(token=secret))


async def test_socket_of_a_deactivated_user_is_closed_4401(connect: Connect, user: User) -> None:
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    user.is_active = False
    await user.asave(update_fields=["is_active"])
    await assert_refused(await connect(token=secret))


async def test_bad_token_wins_over_a_valid_session(connect: Connect, user: User) -> None:
    cookie = await session_cookie(user)
    await assert_refused(await connect(cookie=cookie, token="cks_forged"))


async def test_socket_with_a_logged_out_session_is_closed_4401(
    connect: Connect, user: User
) -> None:
    client = AsyncClient()
    await client.aforce_login(user)
    cookie_value = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    await client.alogout()
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={cookie_value}".encode()
    await assert_refused(await connect(cookie=cookie))


async def test_socket_ignores_what_clients_send_and_answers_ping(
    connect: Connect, user: User
) -> None:
    socket = await connect(user=user)
    await socket.send_to(text_data="not json")
    await socket.send_json_to({"type": "ping"})
    assert await next_event(socket) == {"type": "pong"}
