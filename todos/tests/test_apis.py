import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from todos.models import Todo
from todos.serializers import todo_to_dict
from todos.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db

LIST = "/api/todos/"
NOT_FOUND = {"error": {"code": "not_found", "message": "Todo not found."}}


def detail(todo_id: int) -> str:
    return f"/api/todos/{todo_id}/"


@pytest.fixture
def api(bearer):
    """api(user) -> a test client that sends the user's Better Auth JWT."""
    return lambda user: Client(headers=bearer(user))


@pytest.fixture
def client_for_user(user, api):
    return api(user)


def assert_error(response, status: HTTPStatus, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- shape, list, create ------------------------------------------------------


def test_create_returns_201_with_specs_todo_shape(client_for_user, user):
    response = client_for_user.post(
        LIST,
        {"title": "  Buy milk ", "priority": "high", "due_date": "2030-03-01"},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    todo = Todo.objects.get(owner=user)
    assert body == todo_to_dict(todo)
    assert set(body) == {
        "id",
        "title",
        "description",
        "completed",
        "priority",
        "due_date",
        "created_at",
        "updated_at",
    }
    assert body["title"] == "Buy milk"
    assert body["description"] == ""
    assert body["completed"] is False
    assert body["priority"] == "high"
    assert body["due_date"] == "2030-03-01"
    datetime.datetime.fromisoformat(body["created_at"])
    datetime.datetime.fromisoformat(body["updated_at"])


def test_create_with_only_a_title_uses_defaults(client_for_user):
    body = client_for_user.post(LIST, {"title": "Plain"}, content_type="application/json").json()
    assert (body["priority"], body["due_date"], body["completed"], body["description"]) == (
        "medium",
        None,
        False,
        "",
    )


def test_list_is_paginated_newest_first_and_only_mine(client_for_user, user, other_user):
    todos = [TodoFactory(owner=user) for _ in range(25)]
    TodoFactory.create_batch(3, owner=other_user)
    first = client_for_user.get(LIST).json()
    assert first["count"] == 25
    assert first["previous"] is None
    assert first["next"].endswith("/api/todos/?page=2")
    assert [t["id"] for t in first["results"]] == [t.id for t in reversed(todos)][:20]
    second = client_for_user.get(LIST, {"page": 2}).json()
    assert second["count"] == 25
    assert second["next"] is None
    assert second["previous"] is not None
    assert [t["id"] for t in second["results"]] == [t.id for t in reversed(todos)][20:]
    assert second["results"][0] == todo_to_dict(todos[4])


def test_list_page_size_and_out_of_range_page(client_for_user, user):
    TodoFactory.create_batch(5, owner=user)
    assert len(client_for_user.get(LIST, {"page_size": 2}).json()["results"]) == 2
    assert_error(client_for_user.get(LIST, {"page": 9}), HTTPStatus.NOT_FOUND, "not_found")


def test_list_filters_by_completed(client_for_user, user):
    done = TodoFactory(owner=user, completed=True)
    open_todo = TodoFactory(owner=user)
    assert [
        t["id"] for t in client_for_user.get(LIST, {"completed": "true"}).json()["results"]
    ] == [done.id]
    assert [
        t["id"] for t in client_for_user.get(LIST, {"completed": "false"}).json()["results"]
    ] == [open_todo.id]


@pytest.mark.parametrize("value", ["yes", "1", "maybe"])
def test_list_rejects_other_completed_values(client_for_user, value):
    error = assert_error(
        client_for_user.get(LIST, {"completed": value}), HTTPStatus.BAD_REQUEST, "bad_request"
    )
    assert error["message"] == "completed must be true or false."


def test_list_search(client_for_user, user, other_user):
    hit = TodoFactory(owner=user, title="Pay RENT")
    by_description = TodoFactory(owner=user, title="Bills", description="rent and power")
    TodoFactory(owner=user, title="Walk")
    TodoFactory(owner=other_user, title="rent")
    body = client_for_user.get(LIST, {"search": "rent"}).json()
    assert body["count"] == 2
    assert [t["id"] for t in body["results"]] == [by_description.id, hit.id]


@pytest.mark.parametrize(
    "query", [{"search": "rent\x00"}, {"search": "\x00"}, {"completed": "true\x00"}]
)
def test_a_nul_in_a_filter_is_400(client_for_user, user, query):
    # Issue 20 #6: `?search=%00` was a 500 on PostgreSQL (it cannot compare text with NUL).
    TodoFactory(owner=user, title="Pay rent")
    assert_error(client_for_user.get(LIST, query), HTTPStatus.BAD_REQUEST, "bad_request")


def test_too_many_query_fields_are_400_not_500(client_for_user):
    # Over DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) Django raises TooManyFieldsSent, a
    # SuspiciousOperation that DRF's handler answered as an unexpected 500.
    response = client_for_user.get(LIST + "?" + "a=1&" * 1500)
    assert_error(response, HTTPStatus.BAD_REQUEST, "bad_request")


def test_list_does_not_query_per_row(client_for_user, user, django_assert_num_queries):
    TodoFactory.create_batch(2, owner=user)
    with CaptureQueriesContext(connection) as baseline:
        assert client_for_user.get(LIST).status_code == HTTPStatus.OK
    TodoFactory.create_batch(15, owner=user)
    with django_assert_num_queries(len(baseline.captured_queries)):
        assert len(client_for_user.get(LIST).json()["results"]) == 17


# --- validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "title", "Title is required."),
        ({"title": ""}, "title", "Title must not be empty."),
        ({"title": "    "}, "title", "Title must not be empty."),
        ({"title": "x" * 201}, "title", "Title must be at most 200 characters."),
        ({"title": "ok", "priority": "urgent"}, "priority", "Priority must be one of"),
        ({"title": "ok", "due_date": "31/12/2030"}, "due_date", "YYYY-MM-DD"),
        ({"title": "ok", "due_date": "2030-13-01"}, "due_date", "YYYY-MM-DD"),
        ({"title": "ok", "completed": "perhaps"}, "completed", "valid boolean"),
    ],
)
def test_create_rejects_invalid_fields(client_for_user, payload, field, message):
    response = client_for_user.post(LIST, payload, content_type="application/json")
    error = assert_error(response, HTTPStatus.BAD_REQUEST, "bad_request")
    assert error["message"].startswith(f"{field}: ")
    assert message in error["message"]
    assert not Todo.objects.exists()


def test_title_of_200_characters_is_accepted(client_for_user):
    response = client_for_user.post(LIST, {"title": "x" * 200}, content_type="application/json")
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["title"] == "x" * 200
    assert Todo.objects.get(id=response.json()["id"]).title == "x" * 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ("title=x", "text/plain")],
)
def test_create_rejects_bodies_that_are_not_a_json_object(client_for_user, body, content_type):
    response = client_for_user.post(LIST, body, content_type=content_type)
    assert_error(response, HTTPStatus.BAD_REQUEST, "bad_request")


@pytest.mark.parametrize(
    "payload",
    [{"title": " "}, {"title": "y" * 201}, {"priority": "top"}, {"due_date": "soon"}],
)
def test_patch_rejects_invalid_fields_and_keeps_the_row(client_for_user, user, payload):
    todo = TodoFactory(owner=user, title="Keep")
    before = todo_to_dict(todo)
    response = client_for_user.patch(detail(todo.id), payload, content_type="application/json")
    assert_error(response, HTTPStatus.BAD_REQUEST, "bad_request")
    assert todo_to_dict(Todo.objects.get(pk=todo.id)) == before


# --- detail ---------------------------------------------------------------------


def test_get_own_todo(client_for_user, user):
    todo = TodoFactory(owner=user, due_date=datetime.date(2030, 1, 2))
    response = client_for_user.get(detail(todo.id))
    assert response.status_code == HTTPStatus.OK
    assert response.json() == todo_to_dict(todo)
    assert response.json()["due_date"] == "2030-01-02"


def test_patch_changes_only_given_fields(client_for_user, user):
    todo = TodoFactory(owner=user, title="Old", description="keep", priority="low")
    response = client_for_user.patch(
        detail(todo.id), {"completed": True, "title": " New "}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.OK
    todo.refresh_from_db()
    assert (todo.title, todo.description, todo.priority, todo.completed) == (
        "New",
        "keep",
        "low",
        True,
    )
    assert response.json() == todo_to_dict(todo)


def test_patch_can_clear_the_due_date(client_for_user, user):
    todo = TodoFactory(owner=user, due_date=datetime.date(2030, 1, 2))
    response = client_for_user.patch(
        detail(todo.id), {"due_date": None}, content_type="application/json"
    )
    assert response.json()["due_date"] is None


def test_put_replaces_the_todo(client_for_user, user):
    todo = TodoFactory(owner=user, title="Old", description="gone", priority="high", completed=True)
    response = client_for_user.put(
        detail(todo.id), {"title": "Replaced"}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.OK
    todo.refresh_from_db()
    assert (todo.title, todo.description, todo.priority, todo.completed) == (
        "Replaced",
        "",
        "medium",
        False,
    )


def test_put_requires_a_title(client_for_user, user):
    todo = TodoFactory(owner=user, title="Stay")
    response = client_for_user.put(
        detail(todo.id), {"priority": "low"}, content_type="application/json"
    )
    assert_error(response, HTTPStatus.BAD_REQUEST, "bad_request")
    todo.refresh_from_db()
    assert (todo.title, todo.priority) == ("Stay", "medium")


def test_delete_returns_204(client_for_user, user):
    todo = TodoFactory(owner=user)
    response = client_for_user.delete(detail(todo.id))
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert not Todo.objects.filter(pk=todo.id).exists()
    assert_error(client_for_user.get(detail(todo.id)), HTTPStatus.NOT_FOUND, "not_found")


# --- isolation between users -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("get", None),
        ("patch", {"title": "Hijacked", "completed": True}),
        ("put", {"title": "Hijacked"}),
        ("delete", None),
        # Invalid input must not reveal existence either.
        ("patch", {"title": ""}),
    ],
)
def test_another_users_todo_is_404_and_unchanged(api, user, other_user, method, payload):
    theirs = TodoFactory(owner=other_user, title="Theirs", description="private")
    before = todo_to_dict(theirs)
    kwargs = {"content_type": "application/json"} if payload is not None else {}
    args = (payload,) if payload is not None else ()
    response = getattr(api(user), method)(detail(theirs.id), *args, **kwargs)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == NOT_FOUND
    assert b"private" not in response.content
    assert todo_to_dict(Todo.objects.get(pk=theirs.id)) == before
    # The same request for a todo that does not exist gives the same answer.
    missing = getattr(api(user), method)(detail(theirs.id + 10_000), *args, **kwargs)
    assert (missing.status_code, missing.json()) == (HTTPStatus.NOT_FOUND, NOT_FOUND)


def test_list_never_shows_another_users_todos(api, user, other_user):
    TodoFactory.create_batch(2, owner=other_user, title="theirs")
    body = api(user).get(LIST, {"search": "theirs"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_non_numeric_id_is_404_json(client_for_user):
    assert_error(client_for_user.get("/api/todos/abc/"), HTTPStatus.NOT_FOUND, "not_found")


# --- auth and methods ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", LIST), ("post", LIST), ("get", "/api/todos/1/"), ("delete", "/api/todos/1/")],
)
def test_unauthenticated_is_401_with_www_authenticate(client, method, url):
    response = getattr(client, method)(url)
    assert_error(response, HTTPStatus.UNAUTHORIZED, "auth_error")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Bearer cks_opaque_client_secret_value", "Basic dXNlcjpwdw==", "Bearer"],
)
def test_bad_credentials_are_401(user, authorization):
    response = Client(headers={"Authorization": authorization}).get(LIST)
    assert_error(response, HTTPStatus.UNAUTHORIZED, "auth_error")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_chatkit_client_secret_is_refused(user):
    from accounts.client_secrets import mint_client_secret

    secret, _expires_at = mint_client_secret(user=user)
    TodoFactory(owner=user)
    response = Client(headers={"Authorization": f"Bearer {secret}"}).get(LIST)
    assert_error(response, HTTPStatus.UNAUTHORIZED, "auth_error")


def test_bearer_jwt_works_for_a_user_that_logs_in_for_the_first_time(token_for):
    stranger = UserFactory.build(better_auth_id="ba-first-time", email="first@example.com")
    response = Client(headers={"Authorization": f"Bearer {token_for(stranger)}"}).post(
        LIST, {"title": "Hello"}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.CREATED
    assert Todo.objects.get().owner.better_auth_id == "ba-first-time"


def test_session_auth_reads_without_csrf(user):
    TodoFactory(owner=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(LIST).json()["count"] == 1


def test_session_auth_writes_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    refused = client.post(LIST, {"title": "No token"}, content_type="application/json")
    error = assert_error(refused, HTTPStatus.UNAUTHORIZED, "auth_error")
    assert "CSRF" in error["message"]
    assert not Todo.objects.exists()

    # What the built-in page does: the csrftoken cookie plus the X-CSRFToken header.
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    accepted = client.post(
        LIST,
        {"title": "With token"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == HTTPStatus.CREATED
    assert Todo.objects.get().title == "With token"
    todo_id = accepted.json()["id"]
    assert (
        client.delete(detail(todo_id), headers={"X-CSRFToken": token}).status_code
        == HTTPStatus.NO_CONTENT
    )


@pytest.mark.parametrize(
    ("method", "url"), [("put", LIST), ("delete", LIST), ("post", "/api/todos/1/")]
)
def test_wrong_method_is_405(client_for_user, user, method, url):
    TodoFactory(owner=user)
    response = getattr(client_for_user, method)(url)
    assert_error(response, HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")


def test_writes_publish_live_events(
    client_for_user, user, listen, django_capture_on_commit_callbacks
):
    events = listen(user)
    with django_capture_on_commit_callbacks(execute=True):
        todo_id = client_for_user.post(
            LIST, {"title": "Live"}, content_type="application/json"
        ).json()["id"]
        client_for_user.patch(detail(todo_id), {"completed": True}, content_type="application/json")
        client_for_user.delete(detail(todo_id))
    received = events.received()
    assert [event["type"] for event in received] == ["todo.created", "todo.updated", "todo.deleted"]
    assert {event["todo"]["id"] for event in received} == {todo_id}
    assert received[1]["todo"]["completed"] is True


# --- SPEC "Limits" and hostile bodies ------------------------------------------------


def test_a_description_over_10000_characters_is_400_and_10000_is_accepted(client_for_user):
    over = client_for_user.post(
        LIST, {"title": "t", "description": "d" * 10_001}, content_type="application/json"
    )
    body = assert_error(over, HTTPStatus.BAD_REQUEST, "bad_request")
    assert "10000 characters" in body["message"]
    assert not Todo.objects.exists()

    ok = client_for_user.post(
        LIST, {"title": "t", "description": "d" * 10_000}, content_type="application/json"
    )
    assert ok.status_code == HTTPStatus.CREATED
    patched = client_for_user.patch(
        detail(ok.json()["id"]), {"description": "d" * 10_001}, content_type="application/json"
    )
    assert_error(patched, HTTPStatus.BAD_REQUEST, "bad_request")


def test_a_body_django_refuses_to_buffer_is_413_not_500(client_for_user, settings):
    # The ASGI guard (config/body_limit.py) answers first in a server; behind it,
    # Django's own cap must still be a 413, never a RequestDataTooBig traceback.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_for_user.post(
        LIST, {"title": "t", "description": "d" * 2000}, content_type="application/json"
    )
    assert_error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large")


def test_deeply_nested_json_is_400_not_500(client_for_user):
    body = b'{"title": "t", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client_for_user.post(LIST, body, content_type="application/json")
    assert_error(response, HTTPStatus.BAD_REQUEST, "bad_request")


def test_basic_credentials_from_a_proxy_do_not_break_the_session(user):
    browser = Client(headers={"Authorization": "Basic c3RhZ2luZzpwcm94eQ=="})
    browser.force_login(user)
    todo = TodoFactory(owner=user)
    listed = browser.get(LIST)
    assert listed.status_code == HTTPStatus.OK
    assert [row["id"] for row in listed.json()["results"]] == [todo.id]
    # Without a session, a Basic header alone is still SPEC's 401.
    alone = Client(headers={"Authorization": "Basic c3RhZ2luZzpwcm94eQ=="}).get(LIST)
    assert_error(alone, HTTPStatus.UNAUTHORIZED, "auth_error")


# --- counts -------------------------------------------------------------------


def test_stats_counts_all_of_the_callers_todos_only(client_for_user, user, other_user):
    TodoFactory.create_batch(3, owner=user, completed=False)
    TodoFactory.create_batch(2, owner=user, completed=True)
    TodoFactory(owner=other_user, completed=False)

    response = client_for_user.get("/api/todos/stats/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"open": 3, "done": 2, "total": 5}


def test_stats_needs_authentication(client):
    assert_error(client.get("/api/todos/stats/"), HTTPStatus.UNAUTHORIZED, "auth_error")
