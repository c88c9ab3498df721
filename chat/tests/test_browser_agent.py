"""The agent's own widgets in the built-in client, end to end: "list" answers with a
todo widget whose controls act on the todos, and the list follows live."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from accounts.models import User
from chat.tests.browser import ConsoleErrors, open_page, orm, say, todo_item, wait_answered
from config.tests.servers import ServerProcess
from todos.models import Todo
from todos.tests.factories import TodoFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def two_todos(page_user: User) -> None:
    TodoFactory(owner=page_user, title="bake bread")
    TodoFactory(owner=page_user, title="buy milk")


def test_list_shows_a_widget_whose_controls_change_the_todos_live(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    two_todos: None,
    browser: Browser,
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)
    other = page.context.new_page()
    other.goto(f"{server.url}/")
    expect(other.locator("#live-status")).to_have_attribute("data-state", "live")

    say(page, "list")
    widget = page.locator(".fc-widget").last
    milk = widget.get_by_role("checkbox", name="buy milk")
    expect(milk).not_to_be_checked()
    # The widget comes before the answer's text: a control used while the turn still
    # streams is ignored by design (its box would tick, and nothing be sent).
    wait_answered(page)

    milk.click()
    expect(widget.get_by_role("checkbox", name="buy milk")).to_be_checked()
    expect(todo_item(page, "buy milk")).to_have_class("todo done")
    expect(todo_item(other, "buy milk")).to_have_class("todo done")  # live, another tab
    assert orm(lambda: Todo.objects.get(owner=page_user, title="buy milk").completed)

    page.locator(".fc-widget").last.get_by_role("button", name="Delete “bake bread”").click()
    expect(todo_item(page, "bake bread")).to_have_count(0)
    expect(todo_item(other, "bake bread")).to_have_count(0)
    assert not orm(lambda: Todo.objects.filter(owner=page_user, title="bake bread").exists())

    # After a reload the widget shows what was done.
    page.reload()
    widget = page.locator(".fc-widget").last
    expect(widget.get_by_role("checkbox", name="buy milk")).to_be_checked()
    assert console.errors == []


def test_a_widget_control_used_while_its_turn_still_streams_acts_when_the_turn_ends(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    two_todos: None,
    browser: Browser,
) -> None:
    # The widget comes before the answer's text; a person ticks a box at once. The tick
    # waits for the turn to end, then acts (before, it was dropped: ticked, never sent).
    server = fallback_server(CHATKIT_OFFLINE_TOKEN_DELAY_MS="1500")
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)

    say(page, "list")
    widget = page.locator(".fc-widget").last
    widget.get_by_role("checkbox", name="buy milk").click()
    widget.get_by_role("button", name="Delete “bake bread”").click()
    expect(page.locator(".fc-composer.busy")).to_have_count(1)  # the text still streams
    assert not orm(lambda: Todo.objects.get(owner=page_user, title="buy milk").completed)

    expect(todo_item(page, "buy milk")).to_have_class("todo done")
    expect(todo_item(page, "bake bread")).to_have_count(0)
    assert orm(lambda: Todo.objects.get(owner=page_user, title="buy milk").completed)
    assert console.errors == []
