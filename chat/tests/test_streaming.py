"""Streaming behaviour through a real daphne process: events arrive as they are
produced (what a hang-up does to the turn: test_runs_detached.py)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from chat.models import ThreadItem
from chat.tests import chatkit_client as ck


def _wait_for(predicate, timeout: float = 15.0):
    """Poll the database for what the server process writes (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
def test_events_arrive_as_produced(run_server, user, token_for):
    server = run_server(env={"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "300"})
    headers = {"Authorization": f"Bearer {token_for(user)}", "Content-Type": "application/json"}
    arrivals: list[tuple[float, dict]] = []
    started = time.monotonic()
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", f"{server.url}/chatkit", content=ck.create_thread("hello?"), headers=headers
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append((time.monotonic() - started, json.loads(line[6:])))
            deltas = [e for _, e in arrivals if e.get("update", {}).get("delta")]
            if len(deltas) == 2:
                break  # hang up mid-answer
    thread_id = arrivals[0][1]["thread"]["id"]

    # The first text came at once, not after the whole (10-chunk, 3 s) answer.
    first_text_at = next(t for t, e in arrivals if e.get("update", {}).get("delta"))
    assert first_text_at < 2.0

    kinds = _wait_for(
        lambda: list(ThreadItem.objects.filter(thread_id=thread_id).values_list("type", flat=True))
    )
    assert kinds[0] == "user_message"
