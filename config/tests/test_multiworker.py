"""Stateless workers: two real server processes sharing the database and Redis.

Any worker can serve any request: a thread started on one continues on the other,
the rate limit is one budget across both, and a todo change made through one reaches
a websocket held open on the other.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httpx
import pytest
import websockets
from django.contrib.auth.hashers import make_password

from accounts.client_secrets import mint_client_secret
from accounts.models import User
from config.tests.servers import ServerProcess, post_chatkit, sse_events, user_input

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def shared_env() -> dict[str, str]:
    """Redis for cache, rate limits and channel layer, under keys only this test uses."""
    prefix = f"test-multiworker-{uuid.uuid4().hex[:12]}"
    return {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix, "CHANNELS_PREFIX": prefix}


@pytest.fixture
def two_workers(run_server, shared_env) -> Callable[..., tuple[ServerProcess, ServerProcess]]:
    def start(**extra: str) -> tuple[ServerProcess, ServerProcess]:
        env = {**shared_env, **extra}
        return run_server(env=env, server="daphne"), run_server(env=env, server="uvicorn")

    return start


def assistant_texts(events: list[dict[str, Any]]) -> list[str]:
    return [
        "".join(part["text"] for part in event["item"]["content"])
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "assistant_message"
    ]


def test_thread_started_on_one_worker_continues_on_the_other(
    two_workers, user: User, token_for
) -> None:
    first, second = two_workers()
    token = token_for(user)

    created = post_chatkit(
        first, token, {"type": "threads.create", "params": {"input": user_input("add buy milk")}}
    )
    assert created.status_code == HTTPStatus.OK, created.text
    events = sse_events(created.content)
    thread_id = events[0]["thread"]["id"]
    assert assistant_texts(events), events

    continued = post_chatkit(
        second,
        token,
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input("list")},
        },
    )
    assert continued.status_code == HTTPStatus.OK, continued.text
    shown = [
        event["item"].get("copy_text", "")
        for event in sse_events(continued.content)
        if event["type"] == "thread.item.done" and event["item"]["type"] == "widget"
    ]
    # The second worker sees the todo the first worker's turn added ("list" shows a widget).
    assert any("buy milk" in text for text in shown), shown

    listed = post_chatkit(
        first,
        token,
        {"type": "items.list", "params": {"thread_id": thread_id, "order": "asc", "limit": 50}},
    )
    assert listed.status_code == HTTPStatus.OK, listed.text
    user_texts = [
        "".join(part["text"] for part in item["content"])
        for item in listed.json()["data"]
        if item["type"] == "user_message"
    ]
    assert user_texts == ["add buy milk", "list"]


def test_rate_limit_is_shared_across_workers(two_workers, user: User, token_for) -> None:
    # A day-long window: the count cannot reset half way through the test.
    first, second = two_workers(CHATKIT_RATE_LIMIT="3/day")
    token = token_for(user)
    payload = {"type": "threads.create", "params": {"input": user_input("hello")}}

    statuses = [
        post_chatkit(server, token, payload).status_code for server in (first, second, first)
    ]
    assert statuses == [HTTPStatus.OK] * 3

    refused = post_chatkit(second, token, payload)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json()["error"]["code"] == "rate_limit"
    assert int(refused.headers["Retry-After"]) >= 1
    # And the first worker refuses too: one budget, not one per process.
    assert post_chatkit(first, token, payload).status_code == HTTPStatus.TOO_MANY_REQUESTS


async def test_todo_change_on_one_worker_reaches_websocket_on_the_other(
    two_workers, user: User, token_for
) -> None:
    first, second = await asyncio.to_thread(two_workers)
    secret, _ = mint_client_secret(user=user)
    ws_url = f"ws://127.0.0.1:{second.port}/ws/todos/?token={secret}"

    async with websockets.connect(ws_url, origin=second.url, open_timeout=10) as socket:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"{first.url}/api/todos/",
                json={"title": "Water the plants"},
                headers={"Authorization": f"Bearer {token_for(user)}"},
            )
        assert response.status_code == HTTPStatus.CREATED, response.text
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))

    assert message["type"] == "todo.created"
    assert message["todo"]["id"] == response.json()["id"]
    assert message["todo"]["title"] == "Water the plants"


def _sign_in(server: ServerProcess, username: str, password: str) -> httpx.Client:
    """A browser on the built-in page: the login form, with its CSRF cookie."""
    browser = httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)
    browser.get("/accounts/login/")
    csrf = browser.cookies["csrftoken"]
    response = browser.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{server.url}/accounts/login/"},
    )
    assert response.status_code == HTTPStatus.FOUND, response.text
    return browser


async def test_sign_out_on_one_worker_revokes_on_the_other(two_workers, db) -> None:
    first, second = await asyncio.to_thread(two_workers)
    # Hashed as the servers' own settings can check (the tests' fast hasher is not there).
    password = make_password("correct horse battery", hasher="pbkdf2_sha256")
    await User.objects.acreate(username="pat", password=password)
    browser = await asyncio.to_thread(_sign_in, first, "pat", "correct horse battery")
    csrf = {"X-CSRFToken": browser.cookies["csrftoken"]}
    minted = await asyncio.to_thread(browser.post, "/api/chatkit/session", headers=csrf)
    assert minted.status_code == HTTPStatus.OK, minted.text
    secret = minted.json()["client_secret"]

    # The secret in the subprotocol (the page's way), on the other worker.
    ws_url = f"ws://127.0.0.1:{second.port}/ws/todos/"
    async with websockets.connect(
        ws_url, origin=second.url, subprotocols=["chatkit-secret", secret], open_timeout=10
    ) as socket:
        assert socket.subprotocol == "chatkit-secret"
        threads = {"type": "threads.list", "params": {"limit": 5}}
        assert (await asyncio.to_thread(post_chatkit, second, secret, threads)).status_code == 200

        signed_out = await asyncio.to_thread(browser.post, "/accounts/logout/", headers=csrf)
        assert signed_out.status_code == HTTPStatus.FOUND

        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    refused = await asyncio.to_thread(post_chatkit, second, secret, threads)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["code"] == "auth_error"
