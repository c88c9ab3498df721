"""A worker killed (SIGKILL) mid-answer: another worker finishes its turn within 60 s:
the partial answer stays, an "interrupted" card with "Try again" follows, the thread
unlocks, and a new turn works. Lease and sweep intervals are settings, short here."""

from __future__ import annotations

import signal
import time
import uuid
from http import HTTPStatus

import httpx
import pytest

from chat.models import ThreadItem
from chat.offline_model import HELP_TEXT
from chat.tests import chatkit_client as ck
from chat.tests.turn_streams import StreamedTurn, wait_for
from runs.models import RunLease

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_killed_worker_leaves_an_interrupted_card_and_an_unlocked_thread(
    run_server, user, token_for
):
    prefix = f"test-runs-crash-{uuid.uuid4().hex[:12]}"
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_KEY_PREFIX": prefix,
           "CHANNELS_PREFIX": prefix, "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "400",
           "RUNS_LEASE_SECONDS": "1.5", "RUNS_RENEW_SECONDS": "0.3",
           "RUNS_SWEEP_SECONDS": "0.5"}  # fmt: skip
    doomed, survivor = run_server(env=env), run_server(env=env, server="uvicorn")
    token = token_for(user)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    turn = StreamedTurn(doomed.url, token, ck.create_thread("hello?")).started()
    thread_id = turn.thread_id

    def partial_stored() -> str | None:
        row = ThreadItem.objects.filter(thread_id=thread_id, type="assistant_message").first()
        return row and "".join(part["text"] for part in row.data["content"])

    partial = wait_for(lambda: RunLease.objects.filter(pk=thread_id).exists() and partial_stored())
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    killed_at = time.monotonic()

    def finished() -> dict | None:
        got = httpx.post(f"{survivor.url}/chatkit", content=ck.get_thread(thread_id),
                         headers=headers, timeout=10)  # fmt: skip
        thread = got.json()
        cards = [i for i in thread["items"]["data"] if i["type"] == "widget"]
        return thread if cards and thread["status"] == {"type": "active"} else None

    thread = wait_for(finished, timeout=60)
    assert time.monotonic() - killed_at < 60
    items = thread["items"]["data"]
    assert [i["type"] for i in items] == ["user_message", "assistant_message", "widget"]
    text = "".join(part["text"] for part in items[1]["content"])
    assert text.startswith(partial) and HELP_TEXT.startswith(text) and len(text) < len(HELP_TEXT)
    assert items[2]["copy_text"] == "The answer was interrupted."
    assert "Try again" in str(items[2]["widget"])
    assert thread.get("title"), thread  # a first turn gets its title
    assert not RunLease.objects.filter(pk=thread_id).exists()

    again = httpx.post(f"{survivor.url}/chatkit", content=ck.add_message(thread_id, "help"),
                       headers=headers, timeout=30)  # fmt: skip
    assert again.status_code == HTTPStatus.OK
    assert HELP_TEXT in ck.assistant_text(ck.parse_sse(again.content))
