"""`GET /api/chatkit/entities` (ChatKit's `entities.onTagSearch`): the caller's todos
as entities, best match first, for a client secret, a Better Auth JWT or the page's
session; and a tag that names its todo by `id` alone (as ChatKit sends an Entity)."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from accounts.client_secrets import mint_client_secret
from chat.tests import chatkit_client as ck
from chat.tests.test_views import stream
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/chatkit/entities"


async def _todo(owner, title: str, *, age_days: int = 0, **fields) -> Todo:
    todo = await Todo.objects.acreate(owner=owner, title=title, **fields)
    created = todo.created_at - datetime.timedelta(days=age_days)
    await Todo.objects.filter(pk=todo.pk).aupdate(created_at=created)
    return todo


async def _search(client: AsyncClient, headers, query: str | None = None) -> list[dict]:
    params = {} if query is None else {"query": query}
    response = await client.get(URL, params, headers=headers)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()["data"]


async def test_matches_rank_by_quality_then_recency(async_client, user, other_user, bearer):
    exact = await _todo(user, "Milk", age_days=9)
    starts = await _todo(user, "milkshake for Sam", age_days=5)
    word_old = await _todo(user, "buy milk", age_days=4)
    word_new = await _todo(user, "oat milk", age_days=1)
    inside = await _todo(user, "buttermilk pancakes", age_days=0)
    described = await _todo(user, "groceries", description="eggs and milk", age_days=0)
    await _todo(user, "call mom")
    await _todo(other_user, "milk for the neighbours")

    found = await _search(async_client, bearer(user), "milk")

    expected = [exact, starts, word_new, word_old, inside, described]
    assert [entity["id"] for entity in found] == [str(todo.pk) for todo in expected]


async def test_an_entity_is_what_chatkit_expects(async_client, user, bearer):
    todo = await _todo(user, "pay rent", priority="high", due_date=datetime.date(2026, 3, 1))
    done = await _todo(user, "pay gas", completed=True, age_days=1)

    found = await _search(async_client, bearer(user), "pay")

    assert found == [
        {
            "id": str(todo.pk),
            "title": "pay rent",
            "group": "Open",
            "interactive": True,
            "data": {"todo_id": str(todo.pk), "status": "open", "priority": "high",
                     "due_date": "2026-03-01"},
        },
        {
            "id": str(done.pk),
            "title": "pay gas",
            "group": "Done",
            "interactive": True,
            "data": {"todo_id": str(done.pk), "status": "done", "priority": "medium"},
        },
    ]  # fmt: skip


async def test_an_id_reference_finds_that_todo_first(async_client, user, bearer):
    target = await _todo(user, "water plants")
    await _todo(user, f"call {target.pk} times")

    found = await _search(async_client, bearer(user), f"#{target.pk}")

    assert found[0]["id"] == str(target.pk)


async def test_an_empty_query_offers_the_newest_open_todos_at_most_twenty(
    async_client, user, bearer
):
    for n in range(25):
        await _todo(user, f"task {n}", age_days=30 - n)
    await _todo(user, "done already", completed=True)

    for query in (None, "", "   "):
        found = await _search(async_client, bearer(user), query)
        assert [entity["title"] for entity in found] == [f"task {n}" for n in range(24, 4, -1)]


async def test_at_most_twenty_matches(async_client, user, bearer):
    for n in range(25):
        await _todo(user, f"milk {n}")
    assert len(await _search(async_client, bearer(user), "milk")) == 20


async def test_a_client_secret_a_jwt_and_the_page_session_may_search(
    async_client, user, other_user, bearer
):
    await _todo(user, "mine")
    await _todo(other_user, "theirs")
    secret, _ = await sync_to_async(mint_client_secret)(user=user)

    for headers in ({"Authorization": f"Bearer {secret}"}, bearer(user)):
        assert [e["title"] for e in await _search(async_client, headers)] == ["mine"]
    page = AsyncClient()
    await page.aforce_login(user)
    assert [e["title"] for e in await _search(page, {})] == ["mine"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_no_or_a_bad_token_is_401(async_client, db, headers):
    response = await async_client.get(URL, {"query": "x"}, headers=headers)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"


async def test_other_methods_and_a_nul_are_refused(async_client, user, bearer):
    response = await async_client.post(URL, {}, headers=bearer(user))
    assert (response.status_code, response["Allow"]) == (HTTPStatus.METHOD_NOT_ALLOWED, "GET")
    response = await async_client.get(URL, {"query": "a\x00b"}, headers=bearer(user))
    assert response.status_code == HTTPStatus.BAD_REQUEST


# --- a tag naming its todo by `id` -------------------------------------------------


async def test_a_tag_with_only_its_id_names_the_todo(async_client, user, bearer):
    milk = await _todo(user, "buy milk")
    await _todo(user, "buy milk later")  # the title alone is ambiguous
    entity = (await _search(async_client, bearer(user), "buy milk"))[0]
    assert entity["id"] == str(milk.pk)

    tag = ck.tag(entity["title"], {}, tag_id=entity["id"])  # as ChatKit sends an Entity
    events = await stream(async_client, ck.create_thread(["complete ", tag]), bearer(user))

    assert ck.assistant_text(events) == 'Marked "buy milk" as done.'
    await milk.arefresh_from_db()
    assert milk.completed


async def test_a_tag_with_another_users_id_is_an_unknown_todo(
    async_client, user, other_user, bearer
):
    theirs = await _todo(other_user, "their milk")

    tag = ck.tag("their milk", {}, tag_id=str(theirs.pk))
    events = await stream(async_client, ck.create_thread(["complete ", tag]), bearer(user))

    assert "No todo matches" in ck.assistant_text(events)
    await theirs.arefresh_from_db()
    assert theirs.completed is False
