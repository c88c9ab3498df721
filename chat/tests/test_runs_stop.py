"""`POST /api/chatkit/threads/<id>/stop`: ends a running turn on the worker that
holds it, or on another one (two workers sharing Redis), keeping what was said."""

from __future__ import annotations

import time
import uuid
from http import HTTPStatus

import httpx
import pytest

from accounts.client_secrets import mint_client_secret
from chat.models import Thread, ThreadItem
from chat.offline_model import HELP_TEXT
from chat.tests import chatkit_client as ck
from chat.tests.turn_streams import StreamedTurn, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOW = {"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "300"}


def stop(url: str, token: str, thread_id: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/chatkit/threads/{thread_id}/stop",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def assert_stopped_and_kept(thread_id: str) -> None:
    kinds = list(ThreadItem.objects.filter(thread_id=thread_id).values_list("type", flat=True))
    assert "sdk_hidden_context" in kinds, kinds
    row = ThreadItem.objects.get(thread_id=thread_id, type="assistant_message")
    text = "".join(part["text"] for part in row.data["content"])
    assert text and HELP_TEXT.startswith(text) and len(text) < len(HELP_TEXT)


def test_stop_on_the_same_worker(run_server, user, other_user, token_for):
    server = run_server(env=SLOW)
    secret, _ = mint_client_secret(user=user)
    turn = StreamedTurn(server.url, secret, ck.create_thread("hello?")).started()

    assert stop(server.url, token_for(other_user), turn.thread_id).status_code == 404
    asked = time.monotonic()
    response = stop(server.url, secret, turn.thread_id)
    assert response.status_code == HTTPStatus.OK, response.text
    assert response.json() == {"stopped": True}
    turn.join()
    assert time.monotonic() - asked < 1.0
    assert_stopped_and_kept(turn.thread_id)
    # A first turn stopped mid-answer still titles its thread.
    assert Thread.objects.get(pk=turn.thread_id).title == "hello?"
    assert stop(server.url, token_for(user), turn.thread_id).json() == {"stopped": False}


def test_stop_from_another_worker(run_server, user, token_for):
    prefix = f"test-runs-stop-{uuid.uuid4().hex[:12]}"
    shared = {"REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_KEY_PREFIX": prefix,
              "CHANNELS_PREFIX": prefix, **SLOW}  # fmt: skip
    first, second = run_server(env=shared), run_server(env=shared, server="uvicorn")
    token = token_for(user)
    turn = StreamedTurn(first.url, token, ck.create_thread("hello?")).started()

    asked = time.monotonic()
    assert stop(second.url, token, turn.thread_id).json() == {"stopped": True}
    turn.join()
    assert time.monotonic() - asked < 1.0
    wait_for(lambda: ThreadItem.objects.filter(thread_id=turn.thread_id).count() >= 3)
    assert_stopped_and_kept(turn.thread_id)


def test_stop_needs_auth_and_post(run_server, user, token_for):
    server = run_server()
    url = f"{server.url}/api/chatkit/threads/thr_x/stop"
    assert httpx.post(url, timeout=10).status_code == 401
    assert stop(server.url, token_for(user), "thr_missing").status_code == 404
    got = httpx.get(url, headers={"Authorization": f"Bearer {token_for(user)}"}, timeout=10)
    assert got.status_code == 405
