"""A thread reads as locked (`status: {"type": "locked", "reason"}`) in threads.get_by_id
and threads.list while its turn runs, and active again once it ends or is stopped."""

from __future__ import annotations

import httpx
import pytest

from chat.tests import chatkit_client as ck
from chat.tests.turn_streams import StreamedTurn
from config.tests.servers import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def statuses(server: ServerProcess, token: str, thread_id: str) -> tuple[dict, dict]:
    """The thread's status in threads.get_by_id and in threads.list."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    got = httpx.post(f"{server.url}/chatkit", content=ck.get_thread(thread_id), headers=headers)
    listed = httpx.post(f"{server.url}/chatkit", content=ck.list_threads(), headers=headers)
    assert got.status_code == 200 and listed.status_code == 200
    in_list = next(t for t in listed.json()["data"] if t["id"] == thread_id)
    return got.json()["status"], in_list["status"]


def test_locked_while_answering_then_active(run_server, user, token_for):
    server = run_server(env={"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "150"})
    token = token_for(user)
    turn = StreamedTurn(server.url, token, ck.create_thread("hello?")).started()

    for status in statuses(server, token, turn.thread_id):
        assert status["type"] == "locked" and status["reason"]
    turn.join()
    assert statuses(server, token, turn.thread_id) == ({"type": "active"}, {"type": "active"})


def test_active_again_after_a_stop(run_server, user, token_for):
    server = run_server(env={"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "300"})
    token = token_for(user)
    turn = StreamedTurn(server.url, token, ck.create_thread("hello?")).started()
    assert statuses(server, token, turn.thread_id)[0]["type"] == "locked"

    stopped = httpx.post(
        f"{server.url}/api/chatkit/threads/{turn.thread_id}/stop",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert stopped.json() == {"stopped": True}
    assert statuses(server, token, turn.thread_id) == ({"type": "active"}, {"type": "active"})
