"""`GET /api/chatkit/entities/<id>/preview` (ChatKit's `entities.onRequestPreview`): a
tagged todo's details and actions as a Basic widget, for the caller's own todos only."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from chatkit.widgets import BasicRoot
from django.test import AsyncClient
from django.utils import timezone

from accounts.client_secrets import mint_client_secret
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


def url(todo_id: int) -> str:
    return f"/api/chatkit/entities/{todo_id}/preview"


async def test_a_todos_preview_shows_its_details_and_actions(async_client, user, bearer):
    todo = await Todo.objects.acreate(
        owner=user,
        title="oat milk",
        description="2 litres",
        priority="high",
        due_date=timezone.localdate() - datetime.timedelta(days=1),
    )

    response = await async_client.get(url(todo.pk), headers=bearer(user))

    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Cache-Control"] == "no-store"
    preview = response.json()["preview"]
    assert BasicRoot.model_validate(preview).type == "Basic"  # ChatKit's preview root
    text = str(preview)
    assert "oat milk" in text and "2 litres" in text and "high priority" in text
    assert "overdue" in text
    assert "Complete “oat milk”" in text and "Delete “oat milk”" in text
    assert "'todos.complete'" in text and f"'id': {todo.pk}" in text


async def test_a_client_secret_and_the_page_session_may_ask(async_client, user):
    todo = await Todo.objects.acreate(owner=user, title="pay rent", completed=True)
    secret, _ = await sync_to_async(mint_client_secret)(user=user)

    by_secret = await async_client.get(url(todo.pk), headers={"Authorization": f"Bearer {secret}"})
    page = AsyncClient()
    await page.aforce_login(user)
    by_session = await page.get(url(todo.pk))

    assert by_secret.status_code == by_session.status_code == HTTPStatus.OK
    assert "Reopen “pay rent”" in str(by_secret.json()["preview"])


async def test_another_users_todo_a_missing_one_and_no_caller_are_refused(
    async_client, user, other_user, bearer
):
    theirs = await Todo.objects.acreate(owner=other_user, title="their secret plan")

    foreign = await async_client.get(url(theirs.pk), headers=bearer(user))
    missing = await async_client.get(url(theirs.pk + 1000), headers=bearer(user))
    anonymous = await AsyncClient().get(url(theirs.pk))
    posted = await async_client.post(url(theirs.pk), headers=bearer(other_user))

    assert foreign.status_code == missing.status_code == HTTPStatus.NOT_FOUND
    assert foreign.json()["error"]["code"] == "not_found"
    assert "secret plan" not in foreign.content.decode()
    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert posted.status_code == HTTPStatus.METHOD_NOT_ALLOWED
