"""Behaviour under faults, against real server processes.

PostgreSQL is a throwaway cluster each test starts itself (config/tests/pgcluster.py),
so stopping it never disturbs the shared server or the rest of the suite. Redis "down"
is a closed port. A hanging model is covered in chat/tests (the agent's timeout).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
from chatkit.types import ThreadItem
from pydantic import TypeAdapter

from accounts import dev_issuer
from config.tests.pgcluster import PgCluster, pg_cluster  # noqa: F401 - fixture
from config.tests.servers import (
    BASE_DIR,
    ServerProcess,
    free_port,
    post_chatkit,
    sse_events,
    start_server,
    user_input,
)

pytestmark = pytest.mark.slow

# Bounds: a request that takes longer than this during an outage counts as a hang.
NO_HANG_SECONDS = 10.0


def base_env(settings) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEV_JWT_KEY_PATH": str(settings.BETTER_AUTH["DEV_KEY_PATH"]),
        "CHATKIT_RATE_LIMIT": "1000/minute",
        "REDIS_URL": "",
    }


def migrate(database_url: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **env,
            "DATABASE_URL": database_url,
        },
        check=True,
        timeout=120,
    )


@pytest.fixture
def app_on_private_pg(
    pg_cluster: PgCluster,  # noqa: F811 - the fixture imported above
    settings,
    tmp_path: Path,
) -> Iterator[tuple[ServerProcess, PgCluster, str]]:
    """A daphne on its own PostgreSQL; yields (server, cluster, database URL)."""
    database_url = pg_cluster.createdb("app")
    env = {
        **base_env(settings),
        "DATABASE_URL": database_url,
        # Slow enough that a test can stop the database half way through a reply.
        "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "150",
    }
    migrate(database_url, env)
    server = start_server(env=env, log_dir=tmp_path)
    try:
        yield server, pg_cluster, database_url
    finally:
        server.stop()


def chat(server: ServerProcess, token: str, payload: dict[str, Any]) -> httpx.Response:
    return post_chatkit(server, token, payload, timeout=NO_HANG_SECONDS)


def wait_for_health(server: ServerProcess, status: int, within: float = 15.0) -> float:
    """Poll /healthz until it answers `status`; returns how long that took."""
    start = time.monotonic()
    while True:
        response = httpx.get(f"{server.url}/healthz", timeout=NO_HANG_SECONDS)
        if response.status_code == status:
            return time.monotonic() - start
        assert time.monotonic() - start < within, f"/healthz stayed {response.status_code}"
        time.sleep(0.1)  # polling a recovering process, not hiding a race


def stored_items(database_url: str, thread_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT type, data FROM chat_threaditem WHERE thread_id = %s ORDER BY created_at, seq",
            (thread_id,),
        ).fetchall()
    return [{"type": kind, "data": data} for kind, data in rows]


def test_database_outage_answers_503_and_json_errors_then_recovers(app_on_private_pg) -> None:
    server, cluster, database_url = app_on_private_pg
    token = dev_issuer.issue_token("outage@example.com")
    created = chat(server, token, {"type": "threads.create", "params": {"input": user_input("hi")}})
    assert created.status_code == HTTPStatus.OK
    thread_id = sse_events(created.content)[0]["thread"]["id"]

    cluster.stop()

    started = time.monotonic()
    health = httpx.get(f"{server.url}/healthz", timeout=NO_HANG_SECONDS)
    assert health.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert time.monotonic() - started < 5, "healthz must fail fast, not hang"

    turn = chat(
        server,
        token,
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input("list")},
        },
    )
    if turn.headers["Content-Type"].startswith("text/event-stream"):
        errors = [e for e in sse_events(turn.content) if e["type"] == "error"]
        assert errors and errors[-1]["allow_retry"] is True
    else:
        assert turn.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR
        assert set(turn.json()["error"]) == {"code", "message"}
    assert b"Traceback" not in turn.content and b"psycopg" not in turn.content

    cluster.start()
    wait_for_health(server, HTTPStatus.OK)
    again = chat(
        server,
        token,
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input("add after the outage")},
        },
    )
    assert again.status_code == HTTPStatus.OK
    assert not [e for e in sse_events(again.content) if e["type"] == "error"]
    texts = [
        "".join(part["text"] for part in item["data"]["content"])
        for item in stored_items(database_url, thread_id)
        if item["type"] == "user_message"
    ]
    assert texts[0] == "hi" and texts[-1] == "add after the outage"


def test_database_stopped_mid_stream_ends_the_stream_and_leaves_no_torn_item(
    app_on_private_pg,
) -> None:
    server, cluster, database_url = app_on_private_pg
    token = dev_issuer.issue_token("midstream@example.com")
    body = {"type": "threads.create", "params": {"input": user_input("hello there")}}
    events: list[dict[str, Any]] = []
    started = time.monotonic()
    with httpx.stream(
        "POST",
        f"{server.url}/chatkit",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=NO_HANG_SECONDS,
    ) as response:
        assert response.status_code == HTTPStatus.OK
        buffer = b""
        stopped = False
        for chunk in response.iter_raw():
            buffer += chunk
            *complete, buffer = buffer.split(b"\n\n")
            events += sse_events(b"\n\n".join(complete) + b"\n\n")
            if not stopped and any(
                e["type"] == "thread.item.updated"
                and e["update"]["type"] == "assistant_message.content_part.text_delta"
                for e in events
            ):
                # The reply is streaming: the database goes away under it.
                cluster.stop()
                stopped = True
    assert stopped
    assert time.monotonic() - started < 2 * NO_HANG_SECONDS, "the stream must end, not hang"
    assert events[-1]["type"] == "error", events[-1]
    assert "psycopg" not in json.dumps(events[-1])

    cluster.start()
    wait_for_health(server, HTTPStatus.OK)
    thread_id = events[0]["thread"]["id"]
    items = stored_items(database_url, thread_id)
    # What was written before the outage is whole: every row is a valid ChatKit item.
    adapter: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
    for item in items:
        adapter.validate_python(item["data"])
    assert [item["type"] for item in items][:1] == ["user_message"]


def test_redis_down_chat_and_todos_keep_working(run_server, token_for, user) -> None:
    closed_port = free_port()  # nothing listens here
    server = run_server(
        env={
            "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0",
            "CHATKIT_RATE_LIMIT": "30/minute",
        }
    )
    token = token_for(user)
    started = time.monotonic()
    turn = chat(server, token, {"type": "threads.create", "params": {"input": user_input("hi")}})
    assert turn.status_code == HTTPStatus.OK
    assert [e for e in sse_events(turn.content) if e["type"] == "thread.item.done"]
    assert not [e for e in sse_events(turn.content) if e["type"] == "error"]
    thread_id = sse_events(turn.content)[0]["thread"]["id"]
    again = chat(
        server,
        token,
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input("and again")},
        },
    )
    assert again.status_code == HTTPStatus.OK
    assert [e for e in sse_events(again.content) if e["type"] == "thread.item.done"]
    created = httpx.post(
        f"{server.url}/api/todos/",
        json={"title": "Survives a Redis outage"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=NO_HANG_SECONDS,
    )
    assert created.status_code == HTTPStatus.CREATED
    assert time.monotonic() - started < NO_HANG_SECONDS
    # Rate limiting fails open, and says so in the log; so does the runs channel
    # (runs/bus.py), once for the outage rather than a traceback per turn.
    log = server.log()
    assert "Rate limit cache unavailable" in log
    assert log.count("Runs channel unavailable") == 1, log
    assert "ChatKit stream failed" not in log, log


def _stalled_stream(port: int, token: str) -> socket.socket:
    """Send a streaming turn and never read the answer (a tiny receive buffer)."""
    body = json.dumps({"type": "threads.create", "params": {"input": user_input("hello")}}).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    head = (
        f"POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    return sock


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server_kind", ["daphne", "uvicorn"])
def test_clients_that_stop_reading_do_not_pin_memory(
    server_env, tmp_path, token_for, user, server_kind
) -> None:
    server = start_server(
        env={**server_env, "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "0"},
        log_dir=tmp_path,
        server=server_kind,
    )
    try:
        process = psutil.Process(server.process.pid)
        token = token_for(user)
        # Warm up (imports, caches) so growth below is what the stalled streams cost.
        for _ in range(3):
            chat(server, token, {"type": "threads.create", "params": {"input": user_input("hi")}})
        baseline = process.memory_info().rss
        peak = baseline
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.wait(0.05):
                peak = max(peak, process.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        sockets = [_stalled_stream(server.port, token) for _ in range(40)]
        try:
            # While they sit unread, the server still answers others promptly.
            started = time.monotonic()
            health = httpx.get(f"{server.url}/healthz", timeout=NO_HANG_SECONDS)
            assert health.status_code == HTTPStatus.OK
            assert time.monotonic() - started < 5
            answered = chat(
                server, token, {"type": "threads.create", "params": {"input": user_input("hi")}}
            )
            assert answered.status_code == HTTPStatus.OK
        finally:
            for sock in sockets:
                sock.close()
            stop.set()
            sampler.join()
        # Each unread turn can hold at most its own few kilobytes of events.
        assert (peak - baseline) / 2**20 < 60, f"grew {(peak - baseline) / 2**20:.0f} MB"
    finally:
        server.stop()
