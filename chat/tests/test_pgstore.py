"""chat/pgstore.py: a turn's calls on psycopg's async connections answer exactly as the
ORM store does (PostgreSQL only: on SQLite the ORM store serves them)."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from chatkit.store import NotFoundError
from chatkit.types import ThreadMetadata
from django.db import connection

from accounts.tests.factories import UserFactory
from chat import pgstore
from chat.context import RequestContext
from chat.models import Thread, ThreadItem
from chat.server import get_server
from chat.store import DjangoStore
from chat.tests import chatkit_client as ck
from chat.tests.factories import ThreadFactory, assistant_message, user_message
from chat.tests.test_views import stream
from config import pg

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's store path"),
]


@pytest.fixture
async def store() -> AsyncIterator[pgstore.AsyncPostgresStore]:
    yield pgstore.AsyncPostgresStore()
    await pg.close_pools()


@pytest.fixture
async def owner():
    return await sync_to_async(UserFactory)()


async def _thread_with(owner, count: int) -> str:
    thread = await sync_to_async(ThreadFactory)(owner=owner)
    orm = DjangoStore()
    for n in range(count):
        make = user_message if n % 2 == 0 else assistant_message
        await orm.add_thread_item(thread.id, make(thread.id, f"m{n}"), RequestContext(user=owner))
    return thread.id


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize(("items", "limit"), [(0, 5), (3, 5), (5, 5), (8, 5), (2, 0)])
async def test_thread_and_items_match_the_orm_store(store, owner, items, limit, order):
    thread_id = await _thread_with(owner, items)
    ctx, orm_ctx, orm = RequestContext(user=owner), RequestContext(user=owner), DjangoStore()

    assert await store.load_thread(thread_id, ctx) == await orm.load_thread(thread_id, orm_ctx)
    page = await store.load_thread_items(thread_id, None, limit, order, ctx)
    expected = await orm.load_thread_items(thread_id, None, limit, order, orm_ctx)
    assert [i.id for i in page.data] == [i.id for i in expected.data]
    assert page.data == expected.data
    assert (page.has_more, page.after) == (expected.has_more, expected.after)


async def test_another_users_or_a_missing_thread_is_not_found(store, owner):
    thread_id = await _thread_with(owner, 2)
    stranger = RequestContext(user=await sync_to_async(UserFactory)())

    for ctx, tid in ((stranger, thread_id), (RequestContext(user=owner), "thr_missing")):
        with pytest.raises(NotFoundError):
            await store.load_thread(tid, ctx)
        with pytest.raises(NotFoundError):
            await store.load_thread_items(tid, None, 10, "desc", ctx)
        assert ctx.recent_items is None


async def test_items_are_upserted_once_with_the_orm_stores_json(store, owner):
    thread_id = await _thread_with(owner, 0)
    ctx = RequestContext(user=owner)
    before = (await Thread.objects.aget(pk=thread_id)).updated_at
    item = user_message(thread_id, "first\x00 draft")

    await store.add_thread_item(thread_id, item, ctx)
    item.content[0].text = "final"
    await store.save_item(thread_id, item, ctx)

    rows = [row async for row in ThreadItem.objects.filter(thread_id=thread_id)]
    assert [r.item_id for r in rows] == [item.id]
    loaded = await DjangoStore().load_item(thread_id, item.id, RequestContext(user=owner))
    assert loaded.content[0].text == "final"
    assert loaded.created_at == item.created_at.astimezone(datetime.UTC)
    assert (await Thread.objects.aget(pk=thread_id)).updated_at > before


async def test_no_item_lands_in_another_users_thread(store, owner):
    thread_id = await _thread_with(owner, 0)
    before = (await Thread.objects.aget(pk=thread_id)).updated_at
    stranger = RequestContext(user=await sync_to_async(UserFactory)())

    with pytest.raises(NotFoundError):
        await store.add_thread_item(thread_id, user_message(thread_id, "sneaky"), stranger)

    assert not await ThreadItem.objects.filter(thread_id=thread_id).aexists()
    assert (await Thread.objects.aget(pk=thread_id)).updated_at == before


async def test_a_turn_through_the_view_uses_it(async_client, user, bearer, settings):
    settings.CHATKIT = {**settings.CHATKIT, "ASYNC_DATABASE": True}
    assert isinstance(get_server().store, pgstore.AsyncPostgresStore)
    headers = bearer(user)
    try:
        thread_id = (await stream(async_client, ck.create_thread("hello"), headers))[0].thread.id
        events = await stream(async_client, ck.add_message(thread_id, "add feed the cat"), headers)
        assert "cat" in ck.assistant_text(events).lower()

        items = [i async for i in ThreadItem.objects.filter(thread_id=thread_id)]
        types = [i.type for i in items]
        assert types.count("user_message") == 2 and types.count("assistant_message") >= 2
    finally:
        await pg.close_pools()


class OrderedStore(pgstore.AsyncPostgresStore):
    """The store with its read-ahead ordered against the write they run beside: the read
    finishes first (it can't see the message) or starts after the write (it sees it)."""

    def __init__(self, *, read_first: bool) -> None:
        super().__init__()
        self.read_first = read_first
        self.read_done, self.write_done = asyncio.Event(), asyncio.Event()

    async def _fetch_items(self, *args):
        if not self.read_first:
            await self.write_done.wait()
        try:
            return await super()._fetch_items(*args)
        finally:
            self.read_done.set()

    async def _store_item(self, *args):
        if self.read_first:
            await self.read_done.wait()
        try:
            return await super()._store_item(*args)
        finally:
            self.write_done.set()


@pytest.mark.parametrize("read_first", [True, False])
@pytest.mark.parametrize(("items", "limit"), [(0, 5), (3, 5), (4, 5), (9, 5)])
async def test_a_user_message_reads_the_history_while_it_is_written(
    store, owner, settings, items, limit, read_first
):
    settings.CHATKIT = {**settings.CHATKIT, "HISTORY_ITEMS": limit}
    thread_id = await _thread_with(owner, items)
    ctx = RequestContext(user=owner)
    message = user_message(thread_id, "next")

    await OrderedStore(read_first=read_first).add_thread_item(thread_id, message, ctx)
    statements = pg.statements
    history = await store.load_thread_items(thread_id, None, limit, "desc", ctx)

    assert pg.statements == statements  # served from what was read beside the write
    expected = await DjangoStore().load_thread_items(
        thread_id, None, limit, "desc", RequestContext(user=owner)
    )
    assert history.data[0].id == message.id
    assert history.data == expected.data
    assert (history.has_more, history.after) == (expected.has_more, expected.after)


async def test_a_refused_user_message_holds_nothing(store, owner):
    thread_id = await _thread_with(owner, 2)
    stranger = RequestContext(user=await sync_to_async(UserFactory)())

    with pytest.raises(NotFoundError):  # the read fails first, then the write
        await OrderedStore(read_first=True).add_thread_item(
            thread_id, user_message(thread_id, "sneaky"), stranger
        )

    assert stranger.recent_items is None
    assert await ThreadItem.objects.filter(thread_id=thread_id).acount() == 2


async def test_a_thread_is_created_and_updated_as_the_orm_store_does(store, owner):
    ctx = RequestContext(user=owner)
    mine = ThreadMetadata(id="thr_pg", created_at=datetime.datetime.now(), title=None)
    orm_twin = mine.model_copy(update={"id": "thr_orm"})
    for saver, thread in ((store, mine), (DjangoStore(), orm_twin)):
        await saver.save_thread(thread, ctx)
        thread.title, thread.metadata = "Groceries\x00", {"k": ["v"]}
        await saver.save_thread(thread, ctx)

    rows = {t.id: t async for t in Thread.objects.filter(id__in=["thr_pg", "thr_orm"])}
    ours, theirs = rows["thr_pg"], rows["thr_orm"]
    for field in ("owner_id", "title", "status", "metadata", "allowed_image_domains"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ours.title == "Groceries" and ours.allowed_image_domains is None
    assert ours.created_at == mine.created_at.astimezone(datetime.UTC)
    assert await store.load_thread("thr_pg", RequestContext(user=owner)) == ThreadMetadata(
        id="thr_pg", created_at=ours.created_at, title="Groceries", metadata={"k": ["v"]}
    )


async def test_saving_another_users_thread_id_changes_nothing(store, owner):
    thread_id = await _thread_with(owner, 0)
    before = await Thread.objects.aget(pk=thread_id)
    stranger = RequestContext(user=await sync_to_async(UserFactory)())
    hijack = ThreadMetadata(id=thread_id, created_at=datetime.datetime.now(), title="mine now")

    with pytest.raises(NotFoundError):
        await store.save_thread(hijack, stranger)

    after = await Thread.objects.aget(pk=thread_id)
    assert (after.owner_id, after.title, after.updated_at) == (
        before.owner_id, before.title, before.updated_at
    )  # fmt: skip
