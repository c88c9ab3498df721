"""The shipped nginx config, for real: Debian's nginx in front of two app workers started
with the shipped worker command (scripts/web-worker.sh: one daphne, one uvicorn), with
production settings, TLS on one port and plain HTTP on the other.

Checks: the event stream is not buffered (first text before the answer ends, heartbeats
pass), a websocket event crosses workers through the proxy, the HTTPS redirect does not
loop behind X-Forwarded-Proto, an oversize body is refused by nginx itself, and a
client's X-Forwarded-For does not get it past the sign-in throttle, through nginx or
straight to a worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest
import websockets
from django.db import connection

from accounts.models import User
from accounts.tests.betterauth import BetterAuth
from chat.heartbeat import HEARTBEAT
from config.tests.nginx import Nginx, nginx_binary, start_nginx
from config.tests.servers import (
    BASE_DIR,
    ServerProcess,
    database_url_for,
    free_port,
    start_server,
    user_input,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed"),
]

MAX_BODY_BYTES = 1_048_576
CHUNK_DELAY_MS = 100
TEXT_DELTA = b"assistant_message.content_part.text_delta"


@dataclass
class Stack:
    nginx: Nginx
    workers: list[ServerProcess]
    better_auth: BetterAuth
    tls: ssl.SSLContext

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(verify=self.tls, timeout=30, **kwargs)  # type: ignore[arg-type]

    def upstream_of(self, method: str, path: str) -> list[str]:
        return [row[3] for row in self.nginx.access_log() if row[:2] == [method, path]]

    def wait_for_log(self, method: str, path: str, timeout: float = 10) -> None:
        """Poll nginx's access log (another process writes it) for a request's line."""
        deadline = time.monotonic() + timeout
        while not self.upstream_of(method, path) and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture(scope="module")
def stack(
    django_db_setup, django_db_blocker, better_auth_server, better_auth_keys, tmp_path_factory
) -> Iterator[Stack]:
    root: Path = tmp_path_factory.mktemp("nginx-stack")
    better_auth = BetterAuth(better_auth_server, better_auth_keys, lambda **_: None)
    prefix = f"test-nginx-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BETTER_AUTH_URL": better_auth.url,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": prefix,
        "CHANNELS_PREFIX": prefix,
        "CHATKIT_RATE_LIMIT": "1000/minute",
        "CHATKIT_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "CHATKIT_OFFLINE_TOKEN_DELAY_MS": str(CHUNK_DELAY_MS),
        "CHATKIT_HEARTBEAT_SECONDS": "0.05",
        "LOG_LEVEL": "WARNING",
        "PYTHON": sys.executable,
        # nginx runs on this host: its X-Forwarded-For is the only one believed.
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BETTER_AUTH_JWKS_URL"):
        env.pop(name, None)
    # Production serves collected, hashed static files.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=180,
    )
    workers: list[ServerProcess] = []
    nginx: Nginx | None = None
    try:
        for kind in ("daphne", "uvicorn"):
            port = free_port()
            worker_env = {"APP_SERVER": kind, "HOST": "127.0.0.1", "PORT": str(port)}
            # What the worker script once suggested for compose: it must change nothing.
            worker_env["FORWARDED_ALLOW_IPS"] = "*"
            workers.append(
                start_server(
                    env={**env, **worker_env, "WEB_CONCURRENCY": "1"},
                    log_dir=root,
                    server=kind,
                    port=port,
                    command=["bash", str(BASE_DIR / "scripts" / "web-worker.sh")],
                    ready_timeout=60,
                )
            )
        nginx = start_nginx(
            root / "nginx", [w.port for w in workers], max_body_bytes=MAX_BODY_BYTES
        )
        tls = ssl.create_default_context(cafile=str(nginx.cert_path))
        yield Stack(nginx, workers, better_auth, tls)
    finally:
        if nginx is not None:
            nginx.stop()
        for worker in workers:
            worker.stop()


def test_first_text_arrives_through_the_proxy_before_the_answer_ends(stack: Stack) -> None:
    body = {"type": "threads.create", "params": {"input": user_input("hello")}}
    headers = {"Authorization": f"Bearer {stack.better_auth.token()}"}
    first_text_at = done_at = None
    raw = bytearray()
    with stack.client() as client:
        started = time.monotonic()
        with client.stream(
            "POST", f"{stack.nginx.https_url}/chatkit", json=body, headers=headers
        ) as response:
            assert response.status_code == HTTPStatus.OK
            assert response.headers["content-type"].startswith("text/event-stream")
            for chunk in response.iter_raw():
                if first_text_at is None and TEXT_DELTA in chunk:
                    first_text_at = time.monotonic() - started
                raw += chunk
        done_at = time.monotonic() - started

    # Chunks 100 ms apart: a buffering proxy would deliver the first text with the last.
    assert first_text_at is not None, bytes(raw[-500:])
    assert done_at - first_text_at > 0.5, (first_text_at, done_at)
    assert HEARTBEAT in raw  # SSE comments pass the proxy too
    assert b'"type":"thread.item.done"' in raw


async def test_a_websocket_event_crosses_workers_through_the_proxy(stack: Stack) -> None:
    headers = {"Authorization": f"Bearer {stack.better_auth.token()}"}
    async with httpx.AsyncClient(verify=stack.tls, timeout=30) as client:
        session = await client.post(f"{stack.nginx.https_url}/api/chatkit/session", headers=headers)
        assert session.status_code == HTTPStatus.OK, session.text
        secret = session.json()["client_secret"]
        url = f"{stack.nginx.wss_url}/ws/todos/?token={secret}"
        async with websockets.connect(
            url, ssl=stack.tls, origin=stack.nginx.https_url, open_timeout=10
        ) as socket:
            # While the socket holds one worker, least_conn sends writes to the other.
            titles = [f"Todo {n}" for n in range(3)]
            for title in titles:
                created = await client.post(
                    f"{stack.nginx.https_url}/api/todos/", json={"title": title}, headers=headers
                )
                assert created.status_code == HTTPStatus.CREATED, created.text
            received = [
                json.loads(await asyncio.wait_for(socket.recv(), timeout=10)) for _ in titles
            ]
    assert [m["type"] for m in received] == ["todo.created"] * 3
    assert [m["todo"]["title"] for m in received] == titles

    # nginx logs a websocket when it closes: wait for that line, then compare workers.
    await asyncio.to_thread(stack.wait_for_log, "GET", "/ws/todos/")
    (socket_worker,) = stack.upstream_of("GET", "/ws/todos/")
    write_workers = set(stack.upstream_of("POST", "/api/todos/"))
    assert write_workers - {socket_worker}, (socket_worker, write_workers)


def test_https_redirect_does_not_loop_behind_x_forwarded_proto(stack: Stack) -> None:
    with stack.client(follow_redirects=False) as client:
        plain = client.get(f"{stack.nginx.http_url}/api/me/")
        assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY
        assert plain.headers["location"].startswith("https://127.0.0.1")
        # A client cannot claim https over plain HTTP: nginx sets the header itself.
        spoofed = client.get(
            f"{stack.nginx.http_url}/api/me/", headers={"X-Forwarded-Proto": "https"}
        )
        assert spoofed.status_code == HTTPStatus.MOVED_PERMANENTLY

        # Over TLS the app sees https and answers instead of redirecting again.
        secure = client.get(f"{stack.nginx.https_url}/api/me/")
        assert secure.status_code == HTTPStatus.UNAUTHORIZED
        token = stack.better_auth.token()
        me = client.get(
            f"{stack.nginx.https_url}/api/me/", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.status_code == HTTPStatus.OK, me.text
        # Health checks from the load balancer work over plain HTTP.
        assert client.get(f"{stack.nginx.http_url}/healthz").status_code == HTTPStatus.OK


@pytest.mark.parametrize("worker", [0, 1], ids=["daphne", "uvicorn"])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(stack: Stack, worker: int) -> None:
    # Django's SECURE_PROXY_SSL_HEADER believed any peer: a client reaching a worker
    # past the proxy could claim https over plain http (no redirect, secure cookies
    # and a websocket's https origin on a plain connection).
    url = f"{stack.workers[worker].url}/api/me/"
    claim = {"X-Forwarded-Proto": "https"}
    # From 127.0.0.2 (loopback, not in TRUSTED_PROXIES): the claim changes nothing.
    untrusted = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=untrusted, timeout=30, follow_redirects=False) as client:
        response = client.get(url, headers=claim)
        assert response.status_code == HTTPStatus.MOVED_PERMANENTLY, response.text
        assert response.headers["location"].startswith("https://")
    # From the trusted proxy's address, the same header is believed.
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        assert client.get(url, headers=claim).status_code == HTTPStatus.UNAUTHORIZED


def test_an_oversize_body_is_refused_at_the_proxy(stack: Stack) -> None:
    body = b'{"type": "threads.create", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = {
        "Authorization": f"Bearer {stack.better_auth.token()}",
        "Content-Type": "application/json",
    }
    with stack.client() as client:
        response = client.post(f"{stack.nginx.https_url}/chatkit", content=body, headers=headers)
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json()["error"]["code"] == "payload_too_large"
    # nginx answered itself: no worker saw the request. nginx logs the line after it has
    # answered (and drained the body), so wait for the 413's own line.
    deadline = time.monotonic() + 10
    refused: list[list[str]] = []
    while not refused and time.monotonic() < deadline:
        refused = [
            row for row in stack.nginx.access_log() if row[:3] == ["POST", "/chatkit", "413"]
        ]
        time.sleep(0.05)
    assert refused, stack.nginx.access_log()
    assert refused[-1][3] == "-"


# --- the sign-in throttle counts the address the proxy saw (SPEC "Revocation") ----------


def _sign_in(
    client: httpx.Client, base: str, username: str, password: str, forwarded_for: str
) -> int:
    """The page's sign-in form, as a browser posts it, claiming `forwarded_for`."""
    login = f"{base}/accounts/login/"
    # Straight to a worker over plain HTTP: claim https as a proxy would (Django trusts it).
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    page = client.get(login, headers=headers)
    assert page.status_code == HTTPStatus.OK, page.text
    csrf = page.cookies["csrftoken"]
    client.cookies.clear()  # secure cookies: sent by hand, over plain HTTP too
    response = client.post(
        login,
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers={
            **headers,
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"https://{login.split('://', 1)[1]}",
        },
    )
    return response.status_code


def _spoofing_sign_ins_are_locked_out(client: httpx.Client, base: str) -> None:
    password = secrets.token_urlsafe(12)
    username = f"spoof-{uuid.uuid4().hex[:8]}"
    User.objects.create_user(username=username, password=password)
    statuses = [
        _sign_in(client, base, username, "wrong", f"198.51.100.{attempt}")
        for attempt in range(1, 15)
    ]
    # 14 failures with a fresh "address" each: the 10th locks, whatever the header said.
    assert statuses[:9] == [HTTPStatus.OK] * 9, statuses
    assert set(statuses[9:]) == {HTTPStatus.TOO_MANY_REQUESTS}, statuses
    right = _sign_in(client, base, username, password, "198.51.100.99")
    assert right == HTTPStatus.TOO_MANY_REQUESTS


def test_x_forwarded_for_does_not_get_past_the_sign_in_throttle_through_nginx(
    stack: Stack,
) -> None:
    # Issue 20 #2: nginx appended to the client's header and daphne (--proxy-headers)
    # took its left-most value: 14 failures were all answered 200, then the right
    # password signed in. Through nginx, requests reach both workers (least_conn).
    with stack.client() as client:
        _spoofing_sign_ins_are_locked_out(client, stack.nginx.https_url)


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
def test_x_forwarded_for_does_not_get_past_the_sign_in_throttle_at_a_worker(
    stack: Stack, kind: str
) -> None:
    # A client reaching a worker itself, from an address that is not a trusted proxy
    # (127.0.0.2; the stack trusts 127.0.0.1, where nginx runs). Its X-Forwarded-Proto
    # is not believed either (it once was: then its forms were answered over plain
    # http), so it never reaches the form to try passwords at all: every attempt,
    # whatever address it claims, is sent to https.
    worker = stack.workers[["daphne", "uvicorn"].index(kind)]  # the stack's order
    login = f"http://127.0.0.1:{worker.port}/accounts/login/"
    headers = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=30) as client:
        assert client.get(login, headers=headers).status_code == HTTPStatus.MOVED_PERMANENTLY
        attempt = client.post(login, data={"username": "a", "password": "b"}, headers=headers)
        assert attempt.status_code == HTTPStatus.MOVED_PERMANENTLY
