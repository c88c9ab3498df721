"""`GET /api/chatkit/threads/<id>/events`: a running turn's events from its start, then
live to its end, on the worker that runs it and on another one (Redis); 204 idle."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import httpx
import pytest

from chat.offline_model import HELP_TEXT
from chat.tests import chatkit_client as ck
from chat.tests.turn_streams import StreamedTurn, answer_from_events, delta_text, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOW = {"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "200"}


def reattach(url: str, token: str, thread_id: str) -> StreamedTurn:
    return StreamedTurn(url, token, None, path=f"/api/chatkit/threads/{thread_id}/events")


def assert_whole_turn(events: list[dict]) -> None:
    assert events[0]["type"] == "thread.created"
    assert delta_text(events) == HELP_TEXT  # every delta, from the first
    assert answer_from_events(events) == HELP_TEXT


def test_reattach_on_the_same_worker(run_server, user, other_user, token_for):
    server = run_server(env=SLOW)
    token = token_for(user)
    turn = StreamedTurn(server.url, token, ck.create_thread("hello?")).started()
    path = f"{server.url}/api/chatkit/threads/{turn.thread_id}/events"
    foreign = httpx.get(path, headers={"Authorization": f"Bearer {token_for(other_user)}"})
    assert foreign.status_code == HTTPStatus.NOT_FOUND

    again = reattach(server.url, token, turn.thread_id)
    again.join()
    turn.join()
    assert again.status == HTTPStatus.OK
    assert_whole_turn(again.events)
    assert delta_text(turn.events) == HELP_TEXT

    idle = httpx.get(path, headers={"Authorization": f"Bearer {token}"})
    assert idle.status_code == HTTPStatus.NO_CONTENT


def test_reattach_on_another_worker(run_server, user, token_for):
    prefix = f"test-runs-reattach-{uuid.uuid4().hex[:12]}"
    shared = {"REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_KEY_PREFIX": prefix,
              "CHANNELS_PREFIX": prefix, **SLOW}  # fmt: skip
    first, second = run_server(env=shared), run_server(env=shared, server="uvicorn")
    token = token_for(user)
    turn = StreamedTurn(first.url, token, ck.create_thread("hello?")).started()

    again = reattach(second.url, token, turn.thread_id)
    again.join()
    assert again.status == HTTPStatus.OK
    assert_whole_turn(again.events)

    idle = httpx.get(
        f"{second.url}/api/chatkit/threads/{turn.thread_id}/events",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert idle.status_code == HTTPStatus.NO_CONTENT


def test_a_user_holds_a_bounded_number_of_reattach_streams(run_server, user, other_user, token_for):
    # A user re-attaching again and again made a worker listen (and, for a run on
    # another worker, made that one copy) without bound.
    server = run_server(env={**SLOW, "RUNS_MAX_LISTENERS": "2"})
    token = token_for(user)
    turn = StreamedTurn(server.url, token, ck.create_thread("hello?")).started()
    open_ = [reattach(server.url, token, turn.thread_id) for _ in range(2)]
    wait_for(lambda: all(listener.events for listener in open_))

    refused = httpx.get(
        f"{server.url}/api/chatkit/threads/{turn.thread_id}/events",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json()["error"]["code"] == "rate_limit"
    assert int(refused.headers["Retry-After"]) > 0
    # Another user's places are their own.
    theirs = StreamedTurn(server.url, token_for(other_user), ck.create_thread("hello?")).started()
    assert reattach(server.url, token_for(other_user), theirs.thread_id).started().status == 200

    for listener in open_:  # the streams end with the turn, and give their places back
        listener.join()
        assert_whole_turn(listener.events)
    again = StreamedTurn(server.url, token, ck.create_thread("hello again?")).started()
    back = [reattach(server.url, token, again.thread_id) for _ in range(2)]
    for listener in back:
        listener.join()
        assert listener.status == HTTPStatus.OK
        assert delta_text(listener.events) == HELP_TEXT
