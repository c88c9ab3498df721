"""A turn is a run, not a request: a client that hangs up mid-answer leaves the turn
running to its end, stored whole (real server process, offline model and a fake
OpenAI endpoint); with CHATKIT_STOP_ON_DISCONNECT=1 the hang-up stops it instead."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from chat.models import ThreadItem
from chat.offline_model import HELP_TEXT
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI
from chat.tests.turn_streams import wait_for

pytestmark = pytest.mark.slow

FAKE_CHUNKS = ("Added ", "oat milk ", "to ", "your ", "list, ", "as ", "you ", "asked.")


def hang_up_after_first_delta(url: str, token: str, body: bytes) -> str:
    """Start a turn, read until the first text delta, disconnect; the thread id."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    thread_id = None
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", f"{url}/chatkit", content=body, headers=headers) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event["type"] == "thread.created":
                thread_id = event["thread"]["id"]
            if event.get("update", {}).get("delta"):
                break  # hang up mid-answer
    assert thread_id is not None
    return thread_id


def stored_answer(thread_id: str) -> str | None:
    row = ThreadItem.objects.filter(thread_id=thread_id, type="assistant_message").first()
    if row is None:
        return None
    return "".join(part["text"] for part in row.data["content"])


@pytest.fixture
def slow_fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(answer_chunks=FAKE_CHUNKS, chunk_delay_s=0.15).start()
    yield fake
    fake.stop()


@pytest.fixture(params=["offline", "openai"])
def model_env(request) -> tuple[dict[str, str], str, str]:
    """Server env for a slow model, the message to send, and its whole answer."""
    if request.param == "offline":
        return {"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "150"}, "hello?", HELP_TEXT
    fake = request.getfixturevalue("slow_fake_openai")
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.base_url}
    return env, "please add oat milk", "".join(FAKE_CHUNKS)


def test_a_turn_whose_client_hangs_up_finishes_and_is_stored_whole(
    run_server, user, token_for, model_env
):
    env, message, whole = model_env
    server = run_server(env=env)
    thread_id = hang_up_after_first_delta(server.url, token_for(user), ck.create_thread(message))

    assert wait_for(lambda: stored_answer(thread_id) == whole)
    kinds = set(ThreadItem.objects.filter(thread_id=thread_id).values_list("type", flat=True))
    assert "sdk_hidden_context" not in kinds  # not cancelled


def test_with_stop_on_disconnect_a_hang_up_stops_the_turn(run_server, user, token_for, model_env):
    env, message, whole = model_env
    server = run_server(env={**env, "CHATKIT_STOP_ON_DISCONNECT": "1"})
    thread_id = hang_up_after_first_delta(server.url, token_for(user), ck.create_thread(message))

    def cancelled():
        return ThreadItem.objects.filter(thread_id=thread_id, type="sdk_hidden_context").exists()

    assert wait_for(cancelled)
    text = stored_answer(thread_id)
    assert text and whole.startswith(text) and len(text) < len(whole)


def test_the_answer_so_far_is_stored_about_once_a_second(run_server, user, token_for):
    # Ten chunks 300 ms apart: the sixth arrives 1.5 s in, after the first save.
    server = run_server(env={"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "300"})
    headers = {"Authorization": f"Bearer {token_for(user)}", "Content-Type": "application/json"}
    thread_id, deltas, seen_partial = None, 0, None
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", f"{server.url}/chatkit", content=ck.create_thread("hello?"), headers=headers
        ) as response,
    ):
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event["type"] == "thread.created":
                thread_id = event["thread"]["id"]
            if event.get("update", {}).get("delta"):
                deltas += 1
                if deltas == 6:
                    seen_partial = stored_answer(thread_id)
    assert seen_partial and HELP_TEXT.startswith(seen_partial)
    assert len(seen_partial) < len(HELP_TEXT)
    assert stored_answer(thread_id) == HELP_TEXT
