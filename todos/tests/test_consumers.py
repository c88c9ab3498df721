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

from accounts.client_secrets import mint_client_secret
from accounts.models import User
from accounts.services import user_deactivate
from accounts.tests.factories import UserFactory
from accounts.ws_auth import SECRET_SUBPROTOCOL
from chat.tests.chatkit_client import create_thread, read_stream
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
        # The default 1 s to end: a socket still open leaves its group (Redis) and closes
        # its database connection (a thread hop) first, which a loaded machine can outlast.
        await communicator.disconnect(timeout=5)


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
    stream = await read_stream(response.streaming_content)
    assert b"todos.changed" in stream

    # The same socket also carries the thread's own changes (thread.changed,
    # issue 19): those may come first, but nothing else may.
    event = await next_event(mine)
    while event["type"] == "thread.changed":
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


async def test_a_deeply_nested_frame_is_ignored_like_any_bad_frame(
    connect: Connect, user: User
) -> None:
    # Issue 20 #8: json.loads raised RecursionError, uncaught: close 1011 and a traceback.
    socket = await connect(user=user)
    await socket.send_to(text_data="[" * 100_000 + "]" * 100_000)
    await socket.send_to(text_data='{"a": ' * 100_000 + "1" + "}" * 100_000)
    await socket.send_json_to({"type": "ping"})
    assert await next_event(socket) == {"type": "pong"}


# --- access that ends: expiry, sign-out, deactivation (SPEC "Revocation") -----------


async def page_session(user: User) -> tuple[AsyncClient, bytes]:
    """A signed-in page (through login(), as the login form does) and its cookie."""
    client = AsyncClient()
    await client.aforce_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return client, f"{name}={client.cookies[name].value}".encode()


async def page_secret(client: AsyncClient) -> str:
    response = await client.post("/api/chatkit/session")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["client_secret"]


async def test_socket_is_closed_4401_when_its_client_secret_expires(
    connect: Connect, user: User, settings
) -> None:
    settings.CHATKIT = {**settings.CHATKIT, "SESSION_TTL": 1}
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    socket = await connect(token=secret)
    # Open first, then closed by the timer to expires_at (well within SPEC's few seconds).
    await assert_refused_within(socket, seconds=4)


async def test_sign_out_closes_the_pages_session_and_secret_sockets_4401(
    connect: Connect, user: User
) -> None:
    client, cookie = await page_session(user)
    secret = await page_secret(client)
    by_session = await connect(cookie=cookie)
    by_secret = await connect(token=secret)
    other_tab_by_jwt_secret, _ = await sync_to_async(mint_client_secret)(user=user)
    unrelated = await connect(token=other_tab_by_jwt_secret)

    response = await client.post("/accounts/logout/")
    assert response.status_code == HTTPStatus.FOUND

    await assert_refused(by_session)
    await assert_refused(by_secret)
    # A secret minted with a Better Auth JWT belongs to no page session: it stays.
    await assert_heard_nothing_else(unrelated, user)


@pytest.mark.parametrize("again_as", ["the same user", "another user"])
async def test_sign_out_closes_the_sockets_of_earlier_sign_ins_in_that_browser(
    connect: Connect, user: User, other_user: User, again_as: str
) -> None:
    # Issue 20 #3: a second sign-in in the same browser replaced (or, for another
    # user, flushed) the session's sid: sockets opened before it kept receiving todos.
    client, cookie = await page_session(user)
    by_secret = await connect(token=await page_secret(client))
    by_session = await connect(cookie=cookie)

    await client.aforce_login(user if again_as == "the same user" else other_user)
    later = await connect(token=await page_secret(client))
    response = await client.post("/accounts/logout/")
    assert response.status_code == HTTPStatus.FOUND

    for socket in (by_secret, by_session, later):
        await assert_refused(socket)


async def test_deactivation_closes_every_socket_of_the_user_4401(
    connect: Connect, user: User, other_user: User
) -> None:
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    by_secret = await connect(token=secret)
    by_session = await connect(user=user)
    theirs = await connect(user=other_user)

    await sync_to_async(user_deactivate)(user=user)

    await assert_refused(by_secret)
    await assert_refused(by_session)
    await assert_heard_nothing_else(theirs, other_user)


@pytest.mark.parametrize("how", ["queryset update", "deleting the user"])
async def test_deactivation_by_any_path_closes_the_users_sockets_within_seconds(
    connect: Connect, user: User, other_user: User, settings, how: str
) -> None:
    # Issue 20 #9: only a deactivation through save() told the sockets; an update() or a
    # deleted user left them open (and receiving) for as long as they stayed connected.
    settings.CHATKIT = {**settings.CHATKIT, "SOCKET_RECHECK_SECONDS": 0.2}
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    by_secret = await connect(token=secret)
    by_session = await connect(user=user)
    theirs = await connect(user=other_user)

    if how == "queryset update":
        await User.objects.filter(pk=user.pk).aupdate(is_active=False)
    else:
        await user.adelete()

    await assert_refused_within(by_secret, seconds=3)
    await assert_refused_within(by_session, seconds=3)
    await assert_heard_nothing_else(theirs, other_user)


async def assert_refused_within(socket: WebsocketCommunicator, *, seconds: float) -> None:
    message = await socket.receive_output(timeout=seconds)
    assert message == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


# --- the secret as a subprotocol, kept out of URLs ------------------------------------


async def open_with_subprotocols(
    subprotocols: list[str], headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[WebsocketCommunicator, bool, str | None]:
    communicator = WebsocketCommunicator(
        application, "/ws/todos/", headers=headers or [ORIGIN, HOST], subprotocols=subprotocols
    )
    connected, subprotocol = await communicator.connect(timeout=5)
    return communicator, connected, subprotocol


async def test_secret_in_sec_websocket_protocol_is_accepted_and_not_echoed(
    channel_layer, user: User
) -> None:
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    socket, connected, subprotocol = await open_with_subprotocols([SECRET_SUBPROTOCOL, secret])
    try:
        assert connected and subprotocol == SECRET_SUBPROTOCOL
        todo = await services.atodo_create(user=user, title="Feed the cat")
        assert (await next_event(socket))["todo"]["id"] == todo.pk
    finally:
        await socket.disconnect()


async def test_bad_secret_in_sec_websocket_protocol_is_closed_4401(channel_layer) -> None:
    socket, connected, subprotocol = await open_with_subprotocols(
        [SECRET_SUBPROTOCOL, "cks_forged.secret"]
    )
    try:
        # Accepted with the subprotocol (a browser would fail the handshake otherwise,
        # hiding the code), then closed with 4401.
        assert connected and subprotocol == SECRET_SUBPROTOCOL
        await assert_refused(socket)
    finally:
        await socket.disconnect()


# --- exact origin matching (scheme, host, port) ----------------------------------------

OWN = "http://localhost"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (OWN, True),
        ("http://localhost:80", True),
        ("https://localhost", False),
        ("http://localhost:9999", False),
        ("http://evil.example", False),
        ("http://localhost.evil.example", False),
        ("null", False),
        ("https://app.example:8443", True),
        ("https://app.example", False),
        ("http://app.example:8443", False),
        ("garbage", False),
        # Issue 20 #9: parsed strictly, scheme://host[:port] and nothing else.
        ("http://localhost/", False),
        ("http://user@localhost", False),
        ("http://user:pass@localhost", False),
        ("http://evil.example@localhost", False),
        ("http://localhost/path", False),
        ("http://localhost?x=1", False),
        ("http://localhost#x", False),
        ("http://localhost:", False),
        ("http:/localhost", False),
        ("HTTP://LOCALHOST", True),
    ],
)
async def test_origin_must_match_exactly_with_a_session(
    channel_layer, user: User, settings, origin: str, allowed: bool
) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example:8443"]
    cookie = await session_cookie(user)
    headers = [(b"origin", origin.encode()), HOST, (b"cookie", cookie)]
    communicator = WebsocketCommunicator(application, "/ws/todos/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    await communicator.disconnect()
    assert connected is allowed


async def test_missing_origin_is_refused_with_a_cookie_and_allowed_with_a_secret_alone(
    channel_layer, user: User
) -> None:
    cookie = await session_cookie(user)
    with_cookie = WebsocketCommunicator(
        application, "/ws/todos/", headers=[HOST, (b"cookie", cookie)]
    )
    assert (await with_cookie.connect(timeout=5))[0] is False
    await with_cookie.disconnect()

    # Not a browser (no Origin, no cookies): the secret is the whole credential.
    secret, _ = await sync_to_async(mint_client_secret)(user=user)
    socket, connected, _ = await open_with_subprotocols([SECRET_SUBPROTOCOL, secret], [HOST])
    await socket.disconnect()
    assert connected


async def test_any_host_setting_does_not_make_any_origin_allowed(
    channel_layer, user: User, settings
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    cookie = await session_cookie(user)
    headers = [(b"origin", b"http://evil.example"), HOST, (b"cookie", cookie)]
    communicator = WebsocketCommunicator(application, "/ws/todos/", headers=headers)
    assert (await communicator.connect(timeout=5))[0] is False
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("forwarded_proto", "origin", "allowed"),
    [
        ("https", "https://localhost", True),
        ("https", "http://localhost", False),
        ("http", "https://localhost", False),
    ],
)
@pytest.mark.parametrize("proxy", ["127.0.0.1", "127.0.0.2"], ids=["trusted", "untrusted"])
async def test_behind_a_tls_proxy_the_own_origin_is_https(
    channel_layer,
    user: User,
    settings,
    forwarded_proto: str,
    origin: str,
    allowed: bool,
    proxy: str,
) -> None:
    # As in production (DJANGO_DEBUG=0): Django trusts the proxy's X-Forwarded-Proto,
    # from a TRUSTED_PROXIES peer only (config/proxy.py).
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    cookie = await session_cookie(user)
    headers = [
        (b"origin", origin.encode()),
        HOST,
        (b"x-forwarded-proto", forwarded_proto.encode()),
        (b"cookie", cookie),
    ]
    communicator = WebsocketCommunicator(application, "/ws/todos/", headers=headers)
    communicator.scope["client"] = [proxy, 40000]  # the application has not started yet
    connected, _ = await communicator.connect(timeout=5)
    await communicator.disconnect()
    assert connected is (allowed if proxy == "127.0.0.1" else origin == "http://localhost")
