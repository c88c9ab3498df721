"""A client's pages count the items it sees: hidden context (tool notes, widget
clicks' notes, a stop's note) never takes a place in `items.list` or
`threads.get_by_id`, on the ORM store and on the PostgreSQL store alike, while
the model's history still reads every item."""

from __future__ import annotations

import datetime
import importlib
import json
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone

from chat.context import RequestContext
from chat.models import ThreadItem
from chat.rows import item_row_fields
from chat.server import get_server
from chat.tests import chatkit_client as ck
from chat.tests.factories import ThreadFactory, assistant_message, hidden_context, user_message
from chat.tests.test_views import post
from config import pg

pytestmark = pytest.mark.django_db(transaction=True)

VISIBLE, HIDDEN = 30, 100


@pytest.fixture(params=["orm", "pgstore"])
def store_kind(request, settings) -> Iterator[str]:
    """The ORM store, and (on PostgreSQL) the event loop's SQL store."""
    if request.param == "pgstore":
        if connection.vendor != "postgresql":
            pytest.skip("the PostgreSQL store needs PostgreSQL")
        settings.CHATKIT = {**settings.CHATKIT, "ASYNC_DATABASE": True}
    yield request.param
    if request.param == "pgstore":
        async_to_sync(pg.close_pools)()


def _thread_with_hidden_items(user) -> tuple[str, list[str]]:
    """50 hidden items, the 30 visible ones, 50 hidden again: both ends of the thread
    are hidden, so a page read before filtering would come back empty either way."""
    thread = ThreadFactory(owner=user)
    start = timezone.now() - datetime.timedelta(hours=1)
    items, visible = [], []
    for n in range(VISIBLE + HIDDEN):
        at = start + datetime.timedelta(seconds=n)
        if HIDDEN // 2 <= n < HIDDEN // 2 + VISIBLE:
            make = user_message if n % 2 == 0 else assistant_message
            item = make(thread.id, f"visible {n}", created_at=at)
            visible.append(item.id)
        else:
            item = hidden_context(thread.id, f"note {n}").model_copy(update={"created_at": at})
        items.append(ThreadItem(thread_id=thread.id, **item_row_fields(thread.id, item)))
    ThreadItem.objects.bulk_create(items)
    return thread.id, visible


async def _json(client, body: bytes, headers) -> dict:
    response = await post(client, body, headers)
    assert response.status_code == HTTPStatus.OK, response.content
    return json.loads(response.content)


@pytest.mark.parametrize("order", ["desc", "asc"])
async def test_items_list_pages_count_visible_items_only(
    async_client, user, bearer, store_kind, order
):
    thread_id, visible = await sync_to_async(_thread_with_hidden_items)(user)
    expected = visible[::-1] if order == "desc" else visible
    headers = bearer(user)

    first = await _json(async_client, ck.list_items(thread_id, limit=20, order=order), headers)
    assert [item["id"] for item in first["data"]] == expected[:20]
    assert first["has_more"] is True
    assert first["after"] == expected[19]

    after = first["after"]
    second = await _json(async_client, ck.list_items(thread_id, 20, order, after), headers)
    assert [item["id"] for item in second["data"]] == expected[20:]
    assert second["has_more"] is False


async def test_get_by_id_holds_the_first_twenty_visible_items(
    async_client, user, bearer, store_kind
):
    thread_id, visible = await sync_to_async(_thread_with_hidden_items)(user)

    thread = await _json(async_client, ck.get_thread(thread_id), bearer(user))
    assert [item["id"] for item in thread["items"]["data"]] == visible[:20]
    assert thread["items"]["has_more"] is True


async def test_the_models_history_still_reads_hidden_items(user, store_kind):
    thread_id, _ = await sync_to_async(_thread_with_hidden_items)(user)
    store = get_server().store

    history = await store.load_thread_items(
        thread_id, None, 1000, "desc", RequestContext(user=user)
    )
    assert len(history.data) == VISIBLE + HIDDEN
    assert sum(item.type == "hidden_context_item" for item in history.data) == HIDDEN


async def test_another_users_thread_pages_are_404(
    async_client, user, other_user, bearer, store_kind
):
    thread_id, visible = await sync_to_async(_thread_with_hidden_items)(user)
    for body in (
        ck.list_items(thread_id),
        ck.list_items(thread_id, after=visible[3]),
        ck.get_thread(thread_id),
    ):
        response = await post(async_client, body, bearer(other_user))
        assert response.status_code == HTTPStatus.NOT_FOUND, body
        assert response.json()["error"]["code"] == "not_found"
        assert thread_id.encode() not in response.content


async def test_a_hidden_item_written_by_the_store_is_stored_hidden(user, store_kind):
    thread = await sync_to_async(ThreadFactory)(owner=user)
    ctx = RequestContext(user=user)
    store = get_server().store
    note = hidden_context(thread.id, "Todo #3 completed")
    await store.add_thread_item(thread.id, note, ctx)
    await store.add_thread_item(thread.id, user_message(thread.id, "hi"), ctx)

    rows = ThreadItem.objects.filter(thread_id=thread.id).order_by("seq")
    assert [row async for row in rows.values_list("type", "visible")] == [
        ("hidden_context_item", False),
        ("user_message", True),
    ]


def test_the_migration_hides_existing_hidden_context(user):
    thread = ThreadFactory(owner=user)
    for item in (hidden_context(thread.id, "note"), user_message(thread.id, "hi")):
        ThreadItem.objects.create(thread=thread, **item_row_fields(thread.id, item))
    ThreadItem.objects.update(visible=True)  # rows stored before the column existed
    migration = importlib.import_module("chat.migrations.0003_visible_items")

    migration.hide_hidden_context(django_apps, None)

    rows = ThreadItem.objects.order_by("seq").values_list("type", "visible")
    assert list(rows) == [("hidden_context_item", False), ("user_message", True)]
