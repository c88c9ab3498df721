"""Thread admin: list with counts (no query per row), conversation shown read-only."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat.admin import status_label
from chat.models import ItemType, ThreadItem
from chat.rows import item_row_fields
from chat.tests.factories import ThreadFactory, ThreadItemFactory, hidden_context

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:chat_thread_changelist")


def test_changelist_lists_threads_with_owner_and_item_count(admin_client, user, other_user):
    thread = ThreadFactory(owner=user, title="Groceries chat")
    ThreadItemFactory.create_batch(3, thread=thread)
    ThreadFactory(owner=other_user, title=None)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "Groceries chat" in content
    assert "(untitled)" in content
    assert user.email in content
    rows = {row.pk: row.item_count for row in response.context["cl"].result_list}
    assert rows[thread.pk] == 3


def test_changelist_costs_the_same_queries_for_3_and_30_threads(admin_client, user):
    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CHANGELIST).status_code == HTTPStatus.OK
        return len(queries)

    for thread in ThreadFactory.create_batch(3, owner=user):
        ThreadItemFactory(thread=thread)
    small = queries_for_listing()
    for thread in ThreadFactory.create_batch(27, owner=user):
        ThreadItemFactory(thread=thread)
    assert queries_for_listing() == small


def test_search_by_owner_email_title_and_id(admin_client, user, other_user):
    mine = ThreadFactory(owner=user, title="Alpha")
    theirs = ThreadFactory(owner=other_user, title="Beta")

    def found(q: str) -> set[str]:
        response = admin_client.get(CHANGELIST, {"q": q})
        return {row.pk for row in response.context["cl"].result_list}

    assert found(user.email) == {mine.pk}
    assert found("Beta") == {theirs.pk}
    assert found(mine.pk) == {mine.pk}


def test_filters_by_last_activity_and_staff_owner(admin_client, user):
    ThreadFactory(owner=user)
    since_2000 = {"updated_at__gte": "2000-01-01 00:00:00+00:00"}
    for params in ({"owner__is_staff__exact": "0"}, since_2000):
        response = admin_client.get(CHANGELIST, params)
        assert response.status_code == HTTPStatus.OK
        assert len(response.context["cl"].result_list) == 1


def test_ids_with_admin_escapes_in_them_open_through_quote(admin_client, user):
    # "_24" is how the admin escapes "$": an id like this one (1 in 50 of uuid4 hex) only
    # opens through admin's quote(), as the admin's own links do. Two flaky tests did not.
    thread = ThreadFactory(owner=user, id="thr_2444ae16b49748818b917942056490fb")
    page = reverse("admin:chat_thread_change", args=[thread.pk])

    assert admin_client.get(page).status_code == HTTPStatus.FOUND  # "$44ae…" is not found
    quoted = reverse("admin:chat_thread_change", args=[quote(thread.pk)])
    assert admin_client.get(quoted).status_code == HTTPStatus.OK
    assert quoted in admin_client.get(CHANGELIST).content.decode()  # the admin's own link


def test_change_page_shows_the_conversation_read_only(admin_client, user):
    thread = ThreadFactory(owner=user, title="Milk")
    ThreadItemFactory(thread=thread, text="add buy milk")
    effect = hidden_context(thread.id, "Created todo #7 'buy milk'")
    ThreadItem.objects.create(thread=thread, **item_row_fields(thread.id, effect))
    ThreadItemFactory(thread=thread, type=ItemType.ASSISTANT_MESSAGE, text="Added <b>buy milk</b>.")

    response = admin_client.get(reverse("admin:chat_thread_change", args=[quote(thread.pk)]))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "add buy milk" in content
    assert "Created todo #7 &#x27;buy milk&#x27;" in content
    assert "Added &lt;b&gt;buy milk&lt;/b&gt;." in content  # escaped: user content
    assert "Tool effect" in content
    assert "Assistant" in content
    # Read-only inline: no editable item fields, no "add another", no delete boxes.
    assert 'name="items-0-data"' not in content
    assert 'name="items-0-DELETE"' not in content
    inline = response.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert [form.original.text for form in inline] == [
        "add buy milk",
        "Created todo #7 'buy milk'",
        "Added <b>buy milk</b>.",
    ]


def test_item_admin_is_read_only(admin_client, user):
    item = ThreadItemFactory(thread=ThreadFactory(owner=user), text="hello there")

    listing = admin_client.get(reverse("admin:chat_threaditem_changelist"))
    assert listing.status_code == HTTPStatus.OK
    assert "hello there" in listing.content.decode()
    detail = admin_client.get(reverse("admin:chat_threaditem_change", args=[quote(item.pk)]))
    assert detail.status_code == HTTPStatus.OK
    # Refused (the project answers 404 rather than 403: see config.errors.handler403).
    adding = admin_client.get(reverse("admin:chat_threaditem_add"))
    assert adding.status_code == HTTPStatus.NOT_FOUND


def test_non_staff_users_are_sent_to_the_login_page(client, user):
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == HTTPStatus.FOUND
    assert "/login/" in response["Location"]


def test_change_page_shows_status_as_a_label_and_item_ids_once(admin_client, user):
    thread = ThreadFactory(owner=user, status={"type": "locked", "reason": "Too long"})
    item = ThreadItemFactory(thread=thread, text="x" * 500)

    response = admin_client.get(reverse("admin:chat_thread_change", args=[quote(thread.pk)]))

    content = response.content.decode()
    assert "Locked: Too long" in content
    assert "{&quot;type&quot;" not in content  # no raw JSON
    assert content.count(item.item_id) == 1
    assert "chat/admin.css" in content  # long messages wrap inside the page


def test_status_label():
    assert status_label({}) == "Active"
    assert status_label({"type": "closed", "reason": None}) == "Closed"


def test_a_thread_is_read_only_for_staff_but_can_be_deleted(admin_client, user, other_user):
    """A conversation is its owner's: no "Add thread", no owner dropdown to reassign it
    in one click (a POST changes nothing); deleting stays."""
    thread = ThreadFactory(owner=user, title="Milk")
    change_url = reverse("admin:chat_thread_change", args=[quote(thread.pk)])

    listing = admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(change_url)
    adding = admin_client.get(reverse("admin:chat_thread_add"))
    reassign = admin_client.post(change_url, {"owner": other_user.pk, "title": "Mine now"})

    add_url = reverse("admin:chat_thread_add")
    assert f'href="{add_url}"' not in listing
    assert adding.status_code == HTTPStatus.NOT_FOUND  # refused (403 answers as 404)
    content = page.content.decode()
    assert 'name="owner"' not in content and 'name="title"' not in content
    owner_url = reverse("admin:accounts_user_change", args=[quote(user.pk)])
    assert f'href="{owner_url}"' in content  # the owner, as a link
    assert reassign.status_code == HTTPStatus.NOT_FOUND
    thread.refresh_from_db()
    assert (thread.owner_id, thread.title) == (user.pk, "Milk")

    delete_url = reverse("admin:chat_thread_delete", args=[quote(thread.pk)])
    assert f'href="{delete_url}"' in content
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == HTTPStatus.FOUND
    assert not type(thread).objects.filter(pk=thread.pk).exists()


def test_items_link_their_thread(admin_client, user):
    thread = ThreadFactory(owner=user, title="Groceries " * 10)
    ThreadItemFactory(thread=thread, text="hello")

    content = admin_client.get(reverse("admin:chat_threaditem_changelist")).content.decode()

    thread_url = reverse("admin:chat_thread_change", args=[quote(thread.pk)])
    assert f'<a href="{thread_url}">Groceries Groceries' in content
