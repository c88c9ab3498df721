"""`items.feedback` through `POST /chatkit`: stored per (item, user), idempotent, only
for the answers of the caller's thread, 404 elsewhere, and shown in the admin."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.admin.utils import quote
from django.test import AsyncClient
from django.urls import reverse

from chat.models import Feedback
from chat.tests import chatkit_client as ck
from chat.tests.test_views import post, stream

pytestmark = pytest.mark.django_db(transaction=True)


async def answered_thread(client: AsyncClient, headers: dict[str, str]) -> tuple[str, str, str]:
    """(thread id, user message id, assistant message id) of one "add" turn."""
    events = await stream(client, ck.create_thread("add feed cat"), headers)
    done = [e.item for e in events if e.type == "thread.item.done"]
    user_id = next(i.id for i in done if i.type == "user_message")
    answer_id = next(i.id for i in done if i.type == "assistant_message")
    return events[0].thread.id, user_id, answer_id


async def test_feedback_is_stored_once_per_item_and_user(async_client, user, bearer):
    headers = bearer(user)
    thread_id, user_message_id, answer_id = await answered_thread(async_client, headers)

    response = await post(async_client, ck.feedback(thread_id, [answer_id], "positive"), headers)
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    again = await post(async_client, ck.feedback(thread_id, [answer_id], "positive"), headers)
    assert again.status_code == HTTPStatus.OK
    changed = await post(async_client, ck.feedback(thread_id, [answer_id], "negative"), headers)
    assert changed.status_code == HTTPStatus.OK

    rows = [row async for row in Feedback.objects.all()]
    assert [(r.thread_id, r.item_id, r.user_id, r.kind) for r in rows] == [
        (thread_id, answer_id, user.pk, "negative")
    ]
    assert rows[0].updated_at >= rows[0].created_at

    # The user's own message is not rated; an id that is not in the thread is a 404
    # and stores nothing for the others named with it.
    own = ck.feedback(thread_id, [user_message_id], "positive")
    assert (await post(async_client, own, headers)).status_code == HTTPStatus.OK
    unknown = ck.feedback(thread_id, [answer_id, "msg_x"], "positive")
    missing = await post(async_client, unknown, headers)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing.json()["error"]["code"] == "not_found"
    rows = [row async for row in Feedback.objects.all()]
    assert [(r.item_id, r.kind) for r in rows] == [(answer_id, "negative")]


async def test_feedback_on_another_users_thread_is_404(async_client, user, other_user, bearer):
    thread_id, _, answer_id = await answered_thread(async_client, bearer(user))

    response = await post(
        async_client, ck.feedback(thread_id, [answer_id], "positive"), bearer(other_user)
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "not_found"
    assert not await Feedback.objects.aexists()
    body = ck.feedback("thr_nope", [answer_id], "positive")
    missing = await post(async_client, body, bearer(user))
    assert missing.status_code == HTTPStatus.NOT_FOUND


async def test_feedback_is_visible_in_the_admin(async_client, user, bearer, admin_user):
    thread_id, _, answer_id = await answered_thread(async_client, bearer(user))
    await post(async_client, ck.feedback(thread_id, [answer_id], "negative"), bearer(user))
    admin = AsyncClient()
    await admin.aforce_login(admin_user)

    listing = await admin.get(reverse("admin:chat_feedback_changelist"), {"kind": "negative"})
    assert listing.status_code == HTTPStatus.OK
    assert answer_id in listing.content.decode()
    positive = await admin.get(reverse("admin:chat_feedback_changelist"), {"kind": "positive"})
    assert answer_id not in positive.content.decode()

    on_thread = await admin.get(reverse("admin:chat_thread_change", args=[quote(thread_id)]))
    assert on_thread.status_code == HTTPStatus.OK
    content = on_thread.content.decode()
    assert "Negative" in content and answer_id in content
    assert "add_todo" in content  # the tool effects of the thread, too

    row = await Feedback.objects.aget()
    detail = await admin.get(reverse("admin:chat_feedback_change", args=[row.pk]))
    assert detail.status_code == HTTPStatus.OK
    assert "feed cat" in detail.content.decode()  # the rated answer's text
