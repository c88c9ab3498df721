import datetime

import pytest
from django.db import transaction

from todos import services
from todos.exceptions import TodoInvalid, TodoNotFound
from todos.models import Todo
from todos.serializers import todo_to_dict
from todos.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db


def test_create_trims_title_and_applies_defaults(user):
    todo = services.todo_create(user=user, title="  Buy milk  ")
    todo.refresh_from_db()
    assert todo.owner == user
    assert todo.title == "Buy milk"
    assert todo.description == ""
    assert todo.priority == "medium"
    assert todo.due_date is None
    assert todo.completed is False


def test_create_accepts_all_fields(user):
    todo = services.todo_create(
        user=user,
        title="Report",
        description="Q3 numbers",
        priority="high",
        due_date=datetime.date(2030, 1, 31),
    )
    todo.refresh_from_db()
    assert (todo.description, todo.priority, todo.due_date) == (
        "Q3 numbers",
        "high",
        datetime.date(2030, 1, 31),
    )


def test_create_accepts_an_iso_date_string(user):
    todo = services.todo_create(user=user, title="Taxes", due_date="2030-04-15")
    assert todo.due_date == datetime.date(2030, 4, 15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": ""}, "Title must not be empty."),
        ({"title": "   \t "}, "Title must not be empty."),
        ({"title": "x" * 201}, "at most 200 characters"),
        ({"title": None}, "Title must be text."),
        ({"title": "ok", "priority": "urgent"}, "Priority must be one of: low, medium, high."),
        ({"title": "ok", "due_date": "tomorrow"}, "YYYY-MM-DD"),
        ({"title": "ok", "due_date": "2030-02-30"}, "YYYY-MM-DD"),
        (
            {"title": "ok", "due_date": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)},
            "YYYY-MM-DD",
        ),
        ({"title": "ok", "completed": "yes"}, "Completed must be true or false."),
    ],
)
def test_create_rejects_invalid_fields(user, kwargs, message):
    with pytest.raises(TodoInvalid) as excinfo:
        services.todo_create(user=user, **kwargs)
    assert message in excinfo.value.message
    assert excinfo.value.code == "bad_request"
    assert not Todo.objects.exists()


def test_title_of_exactly_200_characters_after_trimming_is_accepted(user):
    todo = services.todo_create(user=user, title=f"  {'x' * 200}  ")
    assert len(todo.title) == 200


def test_create_publishes_created_after_commit(user, listen, django_capture_on_commit_callbacks):
    events = listen(user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        todo = services.todo_create(user=user, title="Buy milk")
    # Nothing is said before the transaction commits.
    assert events.received() == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert events.received() == [{"type": "todo.created", "todo": todo_to_dict(todo)}]


def test_rolled_back_create_publishes_nothing(user, listen, django_capture_on_commit_callbacks):
    events = listen(user)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.todo_create(user=user, title="Never saved")
        raise RuntimeError("roll back")
    assert callbacks == []
    assert events.received() == []
    assert not Todo.objects.exists()


def test_events_go_to_the_owner_only(user, other_user, listen, django_capture_on_commit_callbacks):
    mine, theirs = listen(user), listen(other_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.todo_create(user=user, title="Private")
    assert [event["type"] for event in mine.received()] == ["todo.created"]
    assert theirs.received() == []


def test_update_changes_fields_and_publishes(user, listen, django_capture_on_commit_callbacks):
    todo = TodoFactory(owner=user, title="Old")
    events = listen(user)
    with django_capture_on_commit_callbacks(execute=True):
        updated = services.todo_update(
            user=user,
            todo_id=todo.id,
            title=" New ",
            description="details",
            priority="low",
            due_date=datetime.date(2031, 5, 1),
            completed=True,
        )
    todo.refresh_from_db()
    assert (todo.title, todo.description, todo.priority, todo.due_date, todo.completed) == (
        "New",
        "details",
        "low",
        datetime.date(2031, 5, 1),
        True,
    )
    assert updated.title == "New"
    assert events.received() == [{"type": "todo.updated", "todo": todo_to_dict(todo)}]


def test_update_can_clear_the_due_date(user):
    todo = TodoFactory(owner=user, due_date=datetime.date(2030, 1, 1))
    services.todo_update(user=user, todo_id=todo.id, due_date=None)
    todo.refresh_from_db()
    assert todo.due_date is None


def test_update_without_changes_writes_and_publishes_nothing(
    user, listen, django_capture_on_commit_callbacks
):
    todo = TodoFactory(owner=user, title="Same")
    before = Todo.objects.get(pk=todo.pk).updated_at
    events = listen(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.todo_update(user=user, todo_id=todo.id, title="Same")
    assert callbacks == []
    assert events.received() == []
    assert Todo.objects.get(pk=todo.pk).updated_at == before


@pytest.mark.parametrize(
    "fields",
    [{"title": " "}, {"title": "y" * 201}, {"priority": "HIGHEST"}, {"owner": 1}, {"id": 5}],
)
def test_update_rejects_invalid_fields_and_keeps_the_row(user, fields):
    todo = TodoFactory(owner=user, title="Keep me")
    with pytest.raises(TodoInvalid):
        services.todo_update(user=user, todo_id=todo.id, **fields)
    todo.refresh_from_db()
    assert (todo.title, todo.priority, todo.owner_id) == ("Keep me", "medium", user.id)


def test_set_completed_marks_done_and_reopens(user):
    todo = TodoFactory(owner=user)
    assert services.todo_set_completed(user=user, todo_id=todo.id, completed=True).completed
    todo.refresh_from_db()
    assert todo.completed is True
    services.todo_set_completed(user=user, todo_id=todo.id, completed=False)
    todo.refresh_from_db()
    assert todo.completed is False


def test_delete_returns_the_instance_with_its_id_and_publishes(
    user, listen, django_capture_on_commit_callbacks
):
    todo = TodoFactory(owner=user, title="Bye")
    expected = todo_to_dict(todo)
    events = listen(user)
    with django_capture_on_commit_callbacks(execute=True):
        deleted = services.todo_delete(user=user, todo_id=todo.id)
    assert deleted.id == todo.id
    assert deleted.title == "Bye"
    assert not Todo.objects.filter(pk=todo.id).exists()
    assert events.received() == [{"type": "todo.deleted", "todo": expected}]


@pytest.mark.parametrize(
    "call",
    [
        lambda user, todo_id: services.todo_update(user=user, todo_id=todo_id, title="Mine now"),
        lambda user, todo_id: services.todo_set_completed(
            user=user, todo_id=todo_id, completed=True
        ),
        lambda user, todo_id: services.todo_delete(user=user, todo_id=todo_id),
    ],
    ids=["update", "set_completed", "delete"],
)
def test_another_users_todo_is_not_found_and_untouched(
    user, other_user, listen, django_capture_on_commit_callbacks, call
):
    theirs = TodoFactory(owner=other_user, title="Theirs")
    before = todo_to_dict(theirs)
    events = listen(other_user)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TodoNotFound) as excinfo:
        call(user, theirs.id)
    assert excinfo.value.message == "Todo not found."
    assert todo_to_dict(Todo.objects.get(pk=theirs.id)) == before
    assert events.received() == []


@pytest.mark.parametrize("todo_id", [999_999, "abc", None])
def test_missing_todo_is_not_found(user, todo_id):
    with pytest.raises(TodoNotFound):
        services.todo_update(user=user, todo_id=todo_id, title="x")
    with pytest.raises(TodoNotFound):
        services.todo_delete(user=user, todo_id=todo_id)


@pytest.mark.django_db(transaction=True)
async def test_async_wrappers_write_through_the_services(user, alisten):
    events = await alisten(user)
    todo = await services.atodo_create(user=user, title=" Async ", priority="high")
    assert todo.title == "Async"
    todo = await services.atodo_set_completed(user=user, todo_id=todo.id, completed=True)
    assert todo.completed is True
    deleted = await services.atodo_delete(user=user, todo_id=todo.id)
    assert deleted.id == todo.id
    assert not await Todo.objects.filter(pk=todo.id).aexists()
    with pytest.raises(TodoNotFound):
        await services.atodo_delete(user=user, todo_id=todo.id)
    assert [e["type"] for e in await events.areceived()] == [
        "todo.created",
        "todo.updated",
        "todo.deleted",
    ]


def test_description_over_10000_characters_is_invalid_for_every_adapter(user):
    # The agent's tools, the admin and the seed command all write through here.
    with pytest.raises(TodoInvalid, match="10000 characters"):
        services.todo_create(user=user, title="t", description="d" * 10_001)
    todo = services.todo_create(user=user, title="t", description="d" * 10_000)
    with pytest.raises(TodoInvalid):
        services.todo_update(user=user, todo_id=todo.pk, description="d" * 10_001)
