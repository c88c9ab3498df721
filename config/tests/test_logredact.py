"""No client secret reaches an access log: real daphne, uvicorn and runserver
processes, each with its access log on, get `?token=` on HTTP and websocket URLs."""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus

import httpx
import pytest
import websockets

from accounts.client_secrets import mint_client_secret
from accounts.models import User
from config.logredact import RedactTokensFilter, redact

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_redact_removes_token_values_and_secrets():
    assert redact("GET /ws/todos/?token=cks_abc.def HTTP/1.1") == (
        "GET /ws/todos/?token=[redacted] HTTP/1.1"
    )
    assert redact("/x?a=1&token=abc&b=2") == "/x?a=1&token=[redacted]&b=2"
    assert redact("Bearer cks_abc.def-ghi") == "Bearer [redacted]"
    assert redact("/api/todos/?search=tokens") == "/api/todos/?search=tokens"


def test_redact_decodes_the_query_as_the_server_does():
    # Issue 20 #9: `?%74oken=%63ks_…` authenticates a socket (parse_qs decodes both),
    # but the access log kept it as sent.
    logged = redact("GET /ws/todos/?%74oken=%63ks_abc.def HTTP/1.1")
    assert logged == "GET /ws/todos/?%74oken=[redacted] HTTP/1.1"
    assert redact("/x?T%4FKEN=abc&b=2") == "/x?T%4FKEN=[redacted]&b=2"
    assert redact("/x?other=%63ks_abc.def") == "/x?other=[redacted]"


def test_the_filter_rewrites_arguments_and_keeps_the_record():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s"',
        ("1.2.3.4", "GET", "/?token=cks_x.y"),
        None,
    )
    assert RedactTokensFilter().filter(record) is True
    assert "cks_" not in record.getMessage() and "token=[redacted]" in record.getMessage()


async def _use_a_secret_in_urls(url: str, port: int, secret: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/healthz?token={secret}")
        assert response.status_code == HTTPStatus.OK
    encoded = "%63" + secret.removeprefix("c")  # percent-encoded: "%63ks_…"
    for query in (f"token={secret}", f"%74oken={encoded}"):
        ws_url = f"ws://127.0.0.1:{port}/ws/todos/?{query}"
        async with websockets.connect(ws_url, origin=url, open_timeout=10) as socket:
            await socket.send('{"type": "ping"}')
            assert "pong" in await asyncio.wait_for(socket.recv(), timeout=10)


@pytest.mark.parametrize("server", ["daphne", "uvicorn", "runserver"])
def test_access_logs_never_hold_a_client_secret(run_server, user: User, server: str) -> None:
    proc = run_server(env={"PYTHONUNBUFFERED": "1"}, server=server, access_log=True)
    secret, _ = mint_client_secret(user=user)

    asyncio.run(_use_a_secret_in_urls(proc.url, proc.port, secret))
    proc.stop()  # everything written and flushed

    log = proc.log()
    assert "/healthz" in log, log  # the access log is on: the request was logged
    assert "cks_" not in log
    assert secret.split(".")[-1] not in log
