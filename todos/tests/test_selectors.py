import pytest

from todos import selectors
from todos.exceptions import TodoNotFound
from todos.models import Todo
from todos.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db


def test_list_is_the_owners_todos_newest_first(user, other_user):
    first, second, third = (TodoFactory(owner=user) for _ in range(3))
    TodoFactory(owner=other_user)
    assert list(selectors.todo_list(user=user)) == [third, second, first]


def test_list_filters_by_completed(user):
    done = TodoFactory(owner=user, completed=True)
    open_todo = TodoFactory(owner=user, completed=False)
    assert list(selectors.todo_list(user=user, completed=True)) == [done]
    assert list(selectors.todo_list(user=user, completed=False)) == [open_todo]


def test_list_search_is_case_insensitive_over_title_and_description(user, other_user):
    in_title = TodoFactory(owner=user, title="Buy MILK")
    in_description = TodoFactory(owner=user, title="Shop", description="oat milk please")
    TodoFactory(owner=user, title="Call mum")
    TodoFactory(owner=other_user, title="milk for them")
    assert list(selectors.todo_list(user=user, search="  Milk ")) == [in_description, in_title]
    assert list(selectors.todo_list(user=user, search="milk", completed=True)) == []
    assert selectors.todo_list(user=user, search="   ").count() == 3


def test_get_returns_own_todo_and_hides_others(user, other_user):
    mine = TodoFactory(owner=user)
    theirs = TodoFactory(owner=other_user)
    assert selectors.todo_get(user=user, todo_id=mine.id) == mine
    with pytest.raises(TodoNotFound) as excinfo:
        selectors.todo_get(user=user, todo_id=theirs.id)
    missing_message = excinfo.value.message
    with pytest.raises(TodoNotFound) as excinfo:
        selectors.todo_get(user=user, todo_id=theirs.id + 1000)
    # The same answer whether the todo exists for someone else or not at all.
    assert excinfo.value.message == missing_message


@pytest.mark.parametrize("template", ["#{id}", "{id}", "  # {id} ", '"#{id}"'])
def test_find_by_id(user, template):
    todo = TodoFactory(owner=user, title="Something")
    TodoFactory(owner=user, title=str(todo.id + 1))
    assert selectors.todo_find(user=user, ref=template.format(id=todo.id)) == todo


def test_find_by_id_never_reaches_another_users_todo(user, other_user):
    theirs = TodoFactory(owner=other_user, title="Secret")
    with pytest.raises(TodoNotFound) as excinfo:
        selectors.todo_find(user=user, ref=f"#{theirs.id}")
    assert excinfo.value.message == f"No todo #{theirs.id}."
    with pytest.raises(TodoNotFound):
        selectors.todo_find(user=user, ref="Secret")


def test_find_bare_number_falls_back_to_a_title(user):
    todo = TodoFactory(owner=user, title="1984")
    assert selectors.todo_find(user=user, ref="1984") == todo


def test_find_exact_title_case_insensitive_beats_substring(user):
    exact = TodoFactory(owner=user, title="Buy milk")
    TodoFactory(owner=user, title="Buy milk and bread")
    assert selectors.todo_find(user=user, ref="BUY MILK") == exact
    assert selectors.todo_find(user=user, ref="'buy milk'") == exact


def test_find_exact_title_prefers_the_open_todo(user):
    TodoFactory(owner=user, title="Water plants", completed=True)
    open_todo = TodoFactory(owner=user, title="Water plants", completed=False)
    TodoFactory(owner=user, title="Water plants", completed=True)
    assert selectors.todo_find(user=user, ref="water plants") == open_todo


def test_find_unique_substring(user, other_user):
    todo = TodoFactory(owner=user, title="Finish the quarterly report")
    TodoFactory(owner=user, title="Call mum")
    TodoFactory(owner=other_user, title="Quarterly taxes")
    assert selectors.todo_find(user=user, ref="quarterly") == todo


def test_find_ambiguous_names_the_candidates(user):
    a = TodoFactory(owner=user, title="Call the bank")
    b = TodoFactory(owner=user, title="Call the plumber")
    with pytest.raises(TodoNotFound) as excinfo:
        selectors.todo_find(user=user, ref="call")
    message = excinfo.value.message
    assert message.startswith('More than one todo matches "call"')
    assert f'#{a.id} "Call the bank"' in message
    assert f'#{b.id} "Call the plumber"' in message


def test_find_two_open_exact_matches_is_ambiguous(user):
    TodoFactory(owner=user, title="Gym")
    TodoFactory(owner=user, title="gym")
    with pytest.raises(TodoNotFound, match="More than one todo matches"):
        selectors.todo_find(user=user, ref="GYM")


@pytest.mark.parametrize("ref", ["", "   ", '""'])
def test_find_empty_reference(user, ref):
    with pytest.raises(TodoNotFound, match="Say which todo"):
        selectors.todo_find(user=user, ref=ref)


def test_find_nothing_matches(user):
    TodoFactory(owner=user, title="Buy milk")
    with pytest.raises(TodoNotFound) as excinfo:
        selectors.todo_find(user=user, ref="walk the dog")
    assert excinfo.value.message == 'No todo matches "walk the dog".'


@pytest.mark.django_db(transaction=True)
async def test_async_selectors(user, other_user):
    older = await Todo.objects.acreate(owner=user, title="Alpha")
    newer = await Todo.objects.acreate(owner=user, title="Beta", completed=True)
    await Todo.objects.acreate(owner=other_user, title="Alpha")
    assert await selectors.atodo_list(user=user) == [newer, older]
    assert await selectors.atodo_list(user=user, completed=False) == [older]
    assert await selectors.atodo_list(user=user, search="bet") == [newer]
    assert await selectors.atodo_get(user=user, todo_id=older.id) == older
