"""Real server processes for tests (pytest plugin): daphne or uvicorn on a free port,
sharing the test database, so browser, multi-worker and fault tests hit a real stack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]

# Pending connections the kernel queues before the server accepts them. Twisted's
# default (50) overflows when hundreds of clients connect at once (a deploy, a
# benchmark level): the kernel drops the handshake and clients see a read error.
LISTEN_BACKLOG = 2048


def server_command(
    server: str, port: int, *, app: str = "config.asgi:application", access_log: bool = False
) -> list[str]:
    """The daphne or uvicorn command line we ship (see scripts/prod-start.sh), on loopback;
    or `manage.py runserver` (daphne's, for development)."""
    if server == "daphne":
        endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog={LISTEN_BACKLOG}"
        # config/daphne.py: daphne's command line with its access log redacted, as shipped.
        return [sys.executable, "-m", "config.daphne", "-e", endpoint,
                "--websocket_connect_timeout", "30", app]  # fmt: skip
    if server == "runserver":
        return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    quiet = [] if access_log else ["--no-access-log"]
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
            "--backlog", str(LISTEN_BACKLOG), "--ws-per-message-deflate", "false",
            *quiet]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL naming the database the tests run against (the test DB)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def stop_process(process: subprocess.Popen) -> None:
    """Terminate `process`, killing it if it has not exited within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class ServerProcess:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)


def start_server(
    *,
    env: dict[str, str],
    log_dir: Path,
    server: str = "daphne",
    port: int | None = None,
    ready_timeout: float = 90.0,
    command: list[str] | None = None,
    access_log: bool = False,
) -> ServerProcess:
    """Start `daphne config.asgi:application` (or uvicorn, runserver, or `command`) and
    wait for /healthz. Daphne and runserver write their access log; uvicorn only with
    `access_log=True`."""
    port = port or free_port()
    cmd = command or server_command(server, port, access_log=access_log)
    # Servers run as shipped: on PostgreSQL, a turn's store calls on async connections
    # (chat/pgstore.py), which the in-process tests leave off (config/test_settings.py).
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
                "CHATKIT_ASYNC_DATABASE": "1", **env}  # fmt: skip
    log_path = log_dir / f"{server}-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        cmd, cwd=BASE_DIR, env=full_env, stdout=log_file, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{server} exited early:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{server} did not answer /healthz:\n{log_path.read_text()}")
        # Polling a starting process for readiness, not papering over a race.
        time.sleep(0.1)
    return ServerProcess(url=url, port=port, process=process, log_path=log_path)


def user_input(text: str) -> dict[str, Any]:
    """A ChatKit user message, as the `input` of a threads.create / add_user_message body."""
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def sse_events(body: bytes) -> list[dict[str, Any]]:
    """The JSON events of a ChatKit event stream."""
    return [
        json.loads(chunk.removeprefix(b"data: "))
        for chunk in body.split(b"\n\n")
        if chunk.startswith(b"data: ")
    ]


def post_chatkit(
    server: ServerProcess, token: str, payload: dict[str, Any], *, timeout: float = 30.0
) -> httpx.Response:
    """One /chatkit request to a real server, read whole."""
    return httpx.post(
        f"{server.url}/chatkit",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )


@pytest.fixture
def server_env(settings) -> dict[str, str]:
    """Environment for a server process that shares this test's database and dev key."""
    env = {
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEV_JWT_KEY_PATH": str(settings.BETTER_AUTH["DEV_KEY_PATH"]),
        "CHATKIT_RATE_LIMIT": "1000/minute",
    }
    return env


@pytest.fixture
def run_server(transactional_db, server_env, tmp_path) -> Iterator[Callable[..., ServerProcess]]:
    """Factory: `run_server(env={...}, server="daphne")` → a running ServerProcess."""
    started: list[ServerProcess] = []

    def start(
        *, env: dict[str, str] | None = None, server: str = "daphne", access_log: bool = False
    ) -> ServerProcess:
        proc = start_server(
            env={**server_env, **(env or {})},
            log_dir=tmp_path,
            server=server,
            access_log=access_log,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
