"""`threads.add_client_tool_output` and `threads.add_structured_input` through
`/chatkit`: an answer to something pending continues the turn; one with nothing
pending to answer is refused before any stream (400, or 404 for a thread or item
that is not the caller's), is not counted as a turn and logs no traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from chatkit.types import (
    ClientToolCallItem,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputMultipleChoiceOption,
)
from django.utils import timezone

from chat.context import RequestContext
from chat.models import ThreadItem
from chat.server import get_server
from chat.tests import chatkit_client as ck
from chat.tests.factories import ThreadFactory, assistant_message, user_message
from chat.tests.test_views import new_thread, post, stream

pytestmark = pytest.mark.django_db(transaction=True)


async def _thread(user) -> str:
    """A thread of the user's with one exchange in it."""
    thread = await sync_to_async(ThreadFactory)(owner=user)
    ctx = RequestContext(user=user)
    store = get_server().store
    await store.add_thread_item(thread.id, user_message(thread.id, "add pay rent"), ctx)
    await store.add_thread_item(thread.id, assistant_message(thread.id, "One moment."), ctx)
    return thread.id


async def _pending_tool_call(user, thread_id: str) -> ClientToolCallItem:
    """What a turn that asks the client leaves as the thread's newest item."""
    call = ClientToolCallItem(
        id=f"ctc_{thread_id[-8:]}",
        thread_id=thread_id,
        created_at=timezone.now(),
        call_id="call_1",
        name="get_local_date",
        arguments={},
    )
    await get_server().store.add_thread_item(thread_id, call, RequestContext(user=user))
    return call


async def _question(user, thread_id: str, *, status: str = "pending") -> StructuredInputItem:
    item = StructuredInputItem(
        id=f"si_{thread_id[-8:]}",
        thread_id=thread_id,
        created_at=timezone.now(),
        status=status,
        inputs=[
            StructuredInputMultipleChoice(
                id="todo",
                question="Which one?",
                options=[StructuredInputMultipleChoiceOption(value=v) for v in ("1", "2")],
            )
        ],
    )
    await get_server().store.add_thread_item(thread_id, item, RequestContext(user=user))
    return item


def _assert_refused(response, status: HTTPStatus, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


async def test_a_client_tool_output_with_nothing_pending_is_400_and_not_a_turn(
    async_client, user, bearer, settings, caplog
):
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "1/minute"}
    thread_id = await _thread(user)
    headers = bearer(user)

    with caplog.at_level(logging.INFO):
        for _ in range(3):
            response = await post(async_client, ck.client_tool_output(thread_id, {}), headers)
            _assert_refused(response, HTTPStatus.BAD_REQUEST, "bad_request")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    # Not one of them was a turn: the user's one turn a minute is still there.
    events = await stream(async_client, ck.add_message(thread_id, "list"), headers)
    assert not [e for e in events if e.type == "error"]


async def test_a_client_tool_call_already_answered_is_400(async_client, user, bearer):
    thread_id = await _thread(user)
    call = await _pending_tool_call(user, thread_id)
    answered = call.model_copy(update={"status": "completed", "output": {"date": "2026-01-01"}})
    await get_server().store.save_item(thread_id, answered, RequestContext(user=user))

    response = await post(async_client, ck.client_tool_output(thread_id, {}), bearer(user))
    _assert_refused(response, HTTPStatus.BAD_REQUEST, "bad_request")


async def test_answering_a_pending_client_tool_call_continues_the_turn(async_client, user, bearer):
    thread_id = await _thread(user)
    call = await _pending_tool_call(user, thread_id)
    result = {"date": "2026-03-05", "timezone": "Europe/Paris"}

    events = await stream(async_client, ck.client_tool_output(thread_id, result), bearer(user))

    assert not [e for e in events if e.type == "error"], events
    assert any(e.type == "thread.item.done" for e in events)
    row = await ThreadItem.objects.aget(thread_id=thread_id, item_id=call.id)
    assert (row.data["status"], row.data["output"]) == ("completed", result)


async def test_a_client_tool_output_for_a_missing_or_foreign_thread_is_404(
    async_client, user, other_user, bearer
):
    theirs = await _thread(other_user)
    await _pending_tool_call(other_user, theirs)
    headers = bearer(user)

    for thread_id in (theirs, "thr_missing"):
        response = await post(async_client, ck.client_tool_output(thread_id, {}), headers)
        _assert_refused(response, HTTPStatus.NOT_FOUND, "not_found")
    row = await ThreadItem.objects.aget(thread_id=theirs, type="client_tool_call")
    assert row.data["status"] == "pending"  # still waiting for its own user


async def test_a_structured_input_naming_what_is_not_a_pending_question_is_400(
    async_client, user, bearer, settings, caplog
):
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "1/minute"}
    thread_id = await _thread(user)
    message = await ThreadItem.objects.filter(thread_id=thread_id).afirst()
    answered = await _question(user, thread_id, status="answered")
    headers = bearer(user)

    with caplog.at_level(logging.INFO):
        for item_id in (message.item_id, answered.id):
            body = ck.structured_input(thread_id, item_id, {"todo": ["1"]})
            _assert_refused(await post(async_client, body, headers), HTTPStatus.BAD_REQUEST,
                            "bad_request")  # fmt: skip
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    events = await stream(async_client, ck.add_message(thread_id, "list"), headers)
    assert not [e for e in events if e.type == "error"]  # the refusals were not turns


async def test_a_structured_input_naming_a_missing_or_foreign_item_is_404(
    async_client, user, other_user, bearer
):
    mine = await _thread(user)
    theirs = await _thread(other_user)
    their_question = await _question(other_user, theirs)
    headers = bearer(user)

    for thread_id, item_id in (
        (theirs, their_question.id),  # their thread
        (mine, their_question.id),  # their item, named in my thread
        (mine, "si_missing"),
        ("thr_missing", "si_missing"),
    ):
        body = ck.structured_input(thread_id, item_id, {"todo": ["1"]})
        _assert_refused(await post(async_client, body, headers), HTTPStatus.NOT_FOUND, "not_found")
    row = await ThreadItem.objects.aget(thread_id=theirs, item_id=their_question.id)
    assert row.data["status"] == "pending"


async def test_answering_a_pending_structured_input_continues_the_turn(async_client, user, bearer):
    thread_id, _ = await new_thread(async_client, bearer(user), "hello")
    question = await _question(user, thread_id)

    body = ck.structured_input(thread_id, question.id, {"todo": ["2"]})
    events = await stream(async_client, body, bearer(user))

    assert not [e for e in events if e.type == "error"], events
    replaced = [e for e in events if e.type == "thread.item.replaced"]
    assert replaced and replaced[0].item.status == "answered"
    row = await ThreadItem.objects.aget(thread_id=thread_id, item_id=question.id)
    assert row.data["status"] == "answered"
    assert row.data["inputs"][0]["answer"]["values"] == ["2"]
