from http import HTTPStatus

import pytest

from accounts.tests.factories import UserFactory
from todos.models import Todo
from todos.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/todos/todo/"


def test_changelist_renders_for_staff_without_a_query_per_row(
    admin_client, user, other_user, django_assert_max_num_queries
):
    # Two owners, so a missing list_select_related would show as extra queries.
    TodoFactory.create_batch(15, owner=user, title="Row")
    TodoFactory.create_batch(15, owner=other_user, title="Row")
    with django_assert_max_num_queries(12):
        response = admin_client.get(CHANGELIST)
    assert response.status_code == HTTPStatus.OK
    assert response.content.count(b'class="action-checkbox"') == 30


def test_changelist_search_by_owner_email_and_filters(admin_client):
    alice = UserFactory(email="alice@example.com")
    mine = TodoFactory(owner=alice, title="Alice task")
    TodoFactory(title="Someone else", completed=True)
    response = admin_client.get(CHANGELIST, {"q": "alice@example"})
    assert list(response.context["cl"].result_list) == [mine]
    response = admin_client.get(CHANGELIST, {"completed__exact": "1"})
    assert [t.title for t in response.context["cl"].result_list] == ["Someone else"]
    response = admin_client.get(CHANGELIST, {"priority__exact": "high"})
    assert list(response.context["cl"].result_list) == []


def test_change_and_add_pages_render(admin_client):
    todo = TodoFactory(title="Editable")
    change = admin_client.get(f"{CHANGELIST}{todo.id}/change/")
    assert change.status_code == HTTPStatus.OK
    assert 'value="Editable"' in change.content.decode()
    add = admin_client.get(f"{CHANGELIST}add/")
    assert add.status_code == HTTPStatus.OK
    assert 'name="title"' in add.content.decode()


def test_non_staff_cannot_open_the_admin(client, user):
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]


def test_add_and_change_go_through_the_services(
    admin_client, user, listen, django_capture_on_commit_callbacks
):
    events = listen(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{CHANGELIST}add/",
            {"owner": user.id, "title": "  From admin ", "description": "", "priority": "low"},
        )
    assert response.status_code == HTTPStatus.FOUND, response.content
    todo = Todo.objects.get()
    assert (todo.owner, todo.title, todo.priority) == (user, "From admin", "low")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{CHANGELIST}{todo.id}/change/",
            {"title": "Renamed", "description": "", "priority": "high", "completed": "on"},
        )
    assert response.status_code == HTTPStatus.FOUND, response.content
    todo.refresh_from_db()
    assert (todo.title, todo.priority, todo.completed, todo.owner) == (
        "Renamed",
        "high",
        True,
        user,
    )
    assert [event["type"] for event in events.received()] == ["todo.created", "todo.updated"]


def test_change_form_rejects_a_blank_title(admin_client):
    todo = TodoFactory(title="Keep")
    response = admin_client.post(
        f"{CHANGELIST}{todo.id}/change/", {"title": "   ", "priority": "medium"}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors["title"]
    todo.refresh_from_db()
    assert todo.title == "Keep"


def test_bulk_mark_completed_and_reopen(
    admin_client, user, listen, django_capture_on_commit_callbacks
):
    selected = TodoFactory.create_batch(2, owner=user)
    already_done = TodoFactory(owner=user, completed=True)
    untouched = TodoFactory(owner=user)
    events = listen(user)
    ids = [t.id for t in [*selected, already_done]]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "mark_completed", "_selected_action": ids}, follow=True
        )
    assert response.status_code == HTTPStatus.OK
    assert "Marked 2 todo(s) completed." in response.content.decode()
    assert set(Todo.objects.filter(completed=True).values_list("id", flat=True)) == set(ids)
    assert Todo.objects.get(pk=untouched.id).completed is False
    # One live event per todo that actually changed.
    assert sorted(e["todo"]["id"] for e in events.received()) == sorted(t.id for t in selected)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, {"action": "reopen", "_selected_action": ids})
    assert not Todo.objects.filter(completed=True).exists()
    assert [e["type"] for e in events.received()] == ["todo.updated"] * 3


def test_bulk_delete_goes_through_the_services(
    admin_client, user, listen, django_capture_on_commit_callbacks
):
    todos = TodoFactory.create_batch(2, owner=user)
    keep = TodoFactory(owner=user)
    events = listen(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {
                "action": "delete_selected",
                "_selected_action": [t.id for t in todos],
                "post": "yes",
            },
        )
    assert response.status_code == HTTPStatus.FOUND
    assert list(Todo.objects.all()) == [keep]
    assert [e["type"] for e in events.received()] == ["todo.deleted"] * 2
