"""CHATKIT_FAST_PATHS=0: every shortcut on a private API is off, and what SPEC asks still
holds by the stock route (docs/performance.md, "Shortcuts on private APIs").

`make test-stock` runs the ChatKit and REST suites with the switch off; these tests
check the switch itself, and the two guarantees a shortcut used to carry under daphne:
a body over the limit is 413, and no token reaches its access log."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest
import websockets

from accounts.client_secrets import mint_client_secret
from accounts.models import User

BASE_DIR = Path(__file__).resolve().parents[2]

REPORT = """
import json, django
django.setup()
from django.conf import settings
import config.asgi as asgi
from daphne.access import AccessLogGenerator
from daphne.http_protocol import WebRequest
from config import async_cache
print(json.dumps({
    "middleware": settings.MIDDLEWARE,
    "handler": type(asgi.django_asgi_app).__module__ + "." + type(asgi.django_asgi_app).__name__,
    "body_guard": bool(getattr(WebRequest, "body_guard_installed", False)),
    "log_patch": bool(getattr(AccessLogGenerator.write_entry, "redacts_tokens", False)),
}))
"""


def report(fast_paths: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BETTER_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="1",
        DJANGO_SECRET_KEY="x" * 50,
        CHATKIT_FAST_PATHS=fast_paths,
    )
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", REPORT], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_switch_leaves_stock_django_and_unpatched_daphne():
    on, off = report("1"), report("0")

    assert on["middleware"][0] == "config.fastpath.ChatKitFastPathMiddleware"
    assert on["handler"] == "config.fastpath.ChatKitASGIHandler"
    assert on["body_guard"] and on["log_patch"]
    assert not any(
        path.startswith(("config.fastpath", "config.middleware")) for path in off["middleware"]
    )
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in off["middleware"]
    assert "csp.middleware.CSPMiddleware" in off["middleware"]
    assert off["handler"] == "django.core.handlers.asgi.ASGIHandler"
    assert not off["body_guard"] and not off["log_patch"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_without_the_shortcuts_daphne_still_refuses_big_bodies_and_redacts_its_log(
    run_server, user: User, settings
):
    proc = run_server(
        env={"CHATKIT_FAST_PATHS": "0", "PYTHONUNBUFFERED": "1"}, server="daphne", access_log=True
    )
    secret, _ = mint_client_secret(user=user)
    limit = settings.CHATKIT["MAX_BODY_BYTES"]

    async def use_the_server() -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            too_big = await client.post(
                f"{proc.url}/chatkit",
                content=b"x" * (limit + 1),
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert (
                await client.get(f"{proc.url}/healthz?token={secret}")
            ).status_code == HTTPStatus.OK
        ws_url = f"ws://127.0.0.1:{proc.port}/ws/todos/?token={secret}"
        async with websockets.connect(ws_url, origin=proc.url, open_timeout=10) as socket:
            await socket.send('{"type": "ping"}')
            assert "pong" in await asyncio.wait_for(socket.recv(), timeout=10)
        return too_big

    too_big = asyncio.run(use_the_server())
    proc.stop()

    assert too_big.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert too_big.json()["error"]["code"] == "payload_too_large"
    log = proc.log()
    assert "/healthz" in log, log  # the access log is on
    assert "cks_" not in log
    assert secret.split(".")[-1] not in log
