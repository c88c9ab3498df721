"""A worker killed (SIGKILL) mid-answer: another worker finishes its turn within 60 s:
the partial answer stays, an "interrupted" card with "Try again" follows, the thread
unlocks, and a new turn works. Also a worker killed in a turn's first second, before
the turn had a lease: a worker that sweeps from its start (uvicorn's lifespan, daphne's
first request) finds it, with Redis or without. Lease and sweep intervals are settings,
short here."""

from __future__ import annotations

import signal
import time
import uuid
from http import HTTPStatus

import httpx
import pytest

from chat.interrupted import MSG_INTERRUPTED
from chat.models import ThreadItem
from chat.offline_model import HELP_TEXT
from chat.tests import chatkit_client as ck
from chat.tests.turn_streams import StreamedTurn, wait_for
from config.tests.servers import ServerProcess
from runs.models import RunLease
from usage.models import TurnUsage

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


def kill_in_first_second(doomed: ServerProcess, token: str) -> str:
    """Start a turn on `doomed` and kill it once the user's message is stored, well
    before the turn's first second (when it would write its lease); the thread's id."""
    turn = StreamedTurn(doomed.url, token, ck.create_thread("add buy milk"))

    def message_stored() -> bool:
        return any(
            e["type"] == "thread.item.done" and e["item"]["type"] == "user_message"
            for e in list(turn.events)
        )

    wait_for(message_stored)
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    thread_id = turn.thread_id
    # On a loaded machine the kill may land after the lease was written (at 1 s): then
    # take it away, so the state is exactly a death before it (the lock alone tells).
    RunLease.objects.filter(pk=thread_id).delete()
    return thread_id


def card_stored(thread_id: str) -> list[str] | None:
    """The thread's item types once the interrupted card is there (read from the database:
    no request for the thread has to come first)."""
    rows = list(ThreadItem.objects.filter(thread_id=thread_id).values_list("type", "data"))
    if any(kind == "widget" and data.get("copy_text") == MSG_INTERRUPTED for kind, data in rows):
        return [kind for kind, _ in rows]
    return None


def assert_finished(server: ServerProcess, token: str, thread_id: str) -> None:
    """Seen through `server`: unlocked and titled, the card after the message, the usage
    row written, and a new turn works."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    got = httpx.post(f"{server.url}/chatkit", content=ck.get_thread(thread_id), headers=headers,
                     timeout=10).json()  # fmt: skip
    assert got["status"] == {"type": "active"}
    assert got["title"] == "buy milk"
    assert [i["type"] for i in got["items"]["data"]] == ["user_message", "widget"]
    assert "Try again" in str(got["items"]["data"][1]["widget"])
    wait_for(lambda: TurnUsage.objects.filter(thread_id=thread_id, outcome="interrupted").exists())
    again = httpx.post(f"{server.url}/chatkit", content=ck.add_message(thread_id, "help"),
                       headers=headers, timeout=30)  # fmt: skip
    assert HELP_TEXT in ck.assistant_text(ck.parse_sse(again.content))


def test_a_worker_killed_in_a_turns_first_second_is_found_by_another_workers_sweep(
    run_server, user, token_for
):
    prefix = f"test-runs-crash-{uuid.uuid4().hex[:12]}"
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_KEY_PREFIX": prefix,
           "CHANNELS_PREFIX": prefix, "RUNS_LEASE_SECONDS": "2.5", "RUNS_RENEW_SECONDS": "1",
           "RUNS_SWEEP_SECONDS": "0.5"}  # fmt: skip
    # The survivor sweeps from its start (uvicorn's lifespan): it gets no chat request.
    survivor = run_server(env=env, server="uvicorn")
    doomed = run_server(env={**env, "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "400"})
    token = token_for(user)

    thread_id = kill_in_first_second(doomed, token)
    killed_at = time.monotonic()

    # Its turn lock is still held (45 s) and tells a run's age: it is found by that.
    assert wait_for(lambda: card_stored(thread_id), timeout=60) == ["user_message", "widget"]
    assert time.monotonic() - killed_at < 60
    assert_finished(survivor, token, thread_id)


def test_the_next_worker_finishes_a_turn_killed_in_its_first_second_when_it_starts(
    run_server, user, token_for
):
    """One worker, no Redis: its locks die with it. The next worker's first sweep, at its
    first request of any kind (daphne; here the test's health check), finds the thread's
    unanswered message with nobody holding the thread."""
    doomed = run_server(env={"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "400"})
    token = token_for(user)
    thread_id = kill_in_first_second(doomed, token)

    # Only the first sweep can do it: the next one is ten minutes away.
    restarted = run_server(env={"RUNS_LEASE_SECONDS": "0.5", "RUNS_SWEEP_SECONDS": "600"})

    assert wait_for(lambda: card_stored(thread_id), timeout=30) == ["user_message", "widget"]
    assert "/chatkit" not in restarted.log()  # the sweep's doing, not a request's
    assert_finished(restarted, token, thread_id)
