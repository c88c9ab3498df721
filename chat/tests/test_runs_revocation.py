"""A revoked listener stops hearing a running turn: the `POST /chatkit` answer stream and
a `GET …/events` re-attach end within seconds of their client secret's session signing
out, of their page session signing out and of their user being deactivated, on the
worker that runs the turn and on another one (Redis). The turn itself goes on and is
stored whole; a listener whose access holds hears it to its end (real servers)."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.client_secrets import mint_client_secret
from accounts.revocation import SESSION_KEY
from accounts.services import user_deactivate, user_sign_out
from chat.offline_model import HELP_TEXT
from chat.tests import chatkit_client as ck
from chat.tests.test_runs_detached import stored_answer
from chat.tests.turn_streams import StreamedTurn, answer_from_events, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A turn of about 14 s (the help text, a chunk a second), re-checked every half second.
ENV = {"CHATKIT_OFFLINE_TOKEN_DELAY_MS": "1000", "CHATKIT_SOCKET_RECHECK_SECONDS": "0.5"}
# What "within a few seconds" means here: the re-check, plus a second of slack.
ENDS_WITHIN = 4.0


def events_path(thread_id: str) -> str:
    return f"/api/chatkit/threads/{thread_id}/events"


def assert_cut_short(listener: StreamedTurn) -> None:
    """The listener's stream ended within seconds, well before the turn's end."""
    assert listener.ended.wait(ENDS_WITHIN), "the revoked listener is still streaming"
    assert listener.status == HTTPStatus.OK
    assert answer_from_events(listener.events) != HELP_TEXT  # it heard part of it only


def test_the_chatkit_stream_ends_when_its_secrets_session_signs_out(
    run_server, user, token_for
) -> None:
    server = run_server(env=ENV)
    secret, _ = mint_client_secret(user=user, sid="page-session-1")
    turn = StreamedTurn(server.url, secret, ck.create_thread("hello?")).started()
    # The same user on a Better Auth JWT: not that page session's, so not revoked.
    unaffected = StreamedTurn(server.url, token_for(user), None, path=events_path(turn.thread_id))

    user_sign_out(user=user, sid="page-session-1")

    assert_cut_short(turn)
    unaffected.join()  # the turn went on, to its end, for a listener still allowed
    assert answer_from_events(unaffected.events) == HELP_TEXT
    assert wait_for(lambda: stored_answer(turn.thread_id) == HELP_TEXT)


@pytest.mark.parametrize("how", ["deactivated", "updated inactive"])
def test_a_reattach_ends_when_its_user_is_deactivated(run_server, user, token_for, how) -> None:
    server = run_server(env=ENV)
    token = token_for(user)
    turn = StreamedTurn(server.url, token, ck.create_thread("hello?")).started()
    again = StreamedTurn(server.url, token, None, path=events_path(turn.thread_id))
    wait_for(lambda: again.events)

    if how == "deactivated":
        user_deactivate(user=user)
    else:  # any path: a queryset update tells nobody, the re-check finds it
        type(user).objects.filter(pk=user.pk).update(is_active=False)

    assert_cut_short(again)
    assert_cut_short(turn)


def test_a_reattach_by_the_page_session_ends_when_it_signs_out(run_server, user) -> None:
    server = run_server(env=ENV)
    page = Client()
    page.force_login(user)
    session = page.session
    session[SESSION_KEY] = "page-session-2"
    session.save()
    cookie = {"Cookie": f"sessionid={page.cookies['sessionid'].value}"}
    secret, _ = mint_client_secret(user=user, sid="another-session")
    turn = StreamedTurn(server.url, secret, ck.create_thread("hello?")).started()
    again = StreamedTurn(server.url, None, None, path=events_path(turn.thread_id), headers=cookie)
    wait_for(lambda: again.events)

    user_sign_out(user=user, sid="page-session-2")

    assert_cut_short(again)
    turn.join()  # another session's secret: heard to the end
    assert answer_from_events(turn.events) == HELP_TEXT


def test_a_reattach_on_another_worker_ends_when_its_session_signs_out(run_server, user) -> None:
    prefix = f"test-runs-revocation-{uuid.uuid4().hex[:12]}"
    shared = {"REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_KEY_PREFIX": prefix,
              "CHANNELS_PREFIX": prefix, **ENV}  # fmt: skip
    first, second = run_server(env=shared), run_server(env=shared, server="uvicorn")
    secret, _ = mint_client_secret(user=user, sid="page-session-3")
    turn = StreamedTurn(first.url, secret, ck.create_thread("hello?")).started()
    again = StreamedTurn(second.url, secret, None, path=events_path(turn.thread_id))
    wait_for(lambda: again.events)

    user_sign_out(user=user, sid="page-session-3")

    assert_cut_short(again)
    assert_cut_short(turn)
    assert wait_for(lambda: stored_answer(turn.thread_id) == HELP_TEXT)
