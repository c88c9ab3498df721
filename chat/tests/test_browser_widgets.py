"""Widgets and Markdown in the built-in client: drawn from the stored item,
controls named after their todo, actions sent as threads.custom_action and the
widget updated in place; a component we can't draw shows the copy text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatkit.widgets import BarSeries, Card, Chart, Text
from playwright.sync_api import Browser, Route, expect

from accounts.models import User
from chat.models import Thread, ThreadItem
from chat.rows import item_row_fields
from chat.tests.browser import (
    ConsoleErrors,
    conversation,
    open_page,
    orm,
    save_widget,
    thread_button,
    todo_item,
    todo_list_widget,
    wait_answered,
)
from chat.tests.factories import assistant_message
from config.tests.servers import ServerProcess
from todos import services
from todos.models import Todo
from todos.tests.factories import TodoFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE_MARKDOWN = (
    "Your **open** todos:\n"
    "- [ ] #8 call mom\n"
    "- [x] #9 pay rent\n\n"
    '<img src=x onerror="window.__pwned = true"> [site](javascript:window.__pwned=true) '
    "and [docs](https://example.com/docs)"
)


@pytest.fixture
def widget_thread(page_user: User) -> dict[str, Any]:
    milk = TodoFactory(owner=page_user, title="buy milk")
    bread = TodoFactory(owner=page_user, title="bake bread")
    thread = conversation(page_user, ("list", "Here they are."), title="My list")
    item = save_widget(
        thread, todo_list_widget([bread, milk]), copy_text="- [ ] bake bread\n- [ ] buy milk"
    )
    chart = Card(
        children=[
            Text(value="Done per day"),
            Chart(
                data=[{"day": "Mon", "n": 1}],
                series=[BarSeries(label="n", dataKey="n")],
                xAxis="day",
            ),
        ]
    )
    save_widget(thread, chart, copy_text="Done per day: Mon 1")
    text = assistant_message(thread.id, HOSTILE_MARKDOWN)
    ThreadItem.objects.create(thread=thread, **item_row_fields(thread.id, text))
    return {"thread": thread, "item": item, "milk": milk, "bread": bread}


def test_stored_widget_renders_and_its_actions_update_it_in_place(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    widget_thread: dict[str, Any],
    browser: Browser,
) -> None:
    thread: Thread = widget_thread["thread"]
    milk: Todo = widget_thread["milk"]
    item = widget_thread["item"]
    server = fallback_server()
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)
    thread_button(page, "My list").click()

    widget = page.locator(".fc-widget").first
    milk_box = widget.get_by_role("checkbox", name="buy milk")
    expect(milk_box).not_to_be_checked()
    expect(widget.get_by_role("button", name="Delete “buy milk”")).to_be_visible()
    expect(widget.get_by_role("button", name="Delete “bake bread”")).to_be_visible()
    expect(widget).to_contain_text("Your todos")

    # A component without a renderer: the item's copy text instead.
    expect(page.locator(".fc-widget-text")).to_have_text("Done per day: Mon 1")

    # Markdown as structure; markup and script links stay text.
    answer = page.locator(".fc-assistant").last
    expect(answer.locator("strong")).to_have_text("open")
    expect(answer.locator("li")).to_have_count(2)
    expect(answer.locator("li.md-task.done")).to_contain_text("pay rent")
    expect(answer.locator("img")).to_have_count(0)
    expect(answer).to_contain_text("<img src=x")
    expect(answer.get_by_role("link")).to_have_count(1)
    expect(answer.get_by_role("link", name="docs")).to_have_attribute(
        "href", "https://example.com/docs"
    )
    assert page.evaluate("window.__pwned") is None

    # The server's side of an action (issue 9's job), played by the test: the
    # request is checked, the todo completed, the widget replaced in the stream.
    sent: list[dict[str, Any]] = []

    def custom_action(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        if body.get("type") != "threads.custom_action":
            route.continue_()
            return
        sent.append(body)
        done = orm(services.todo_update, user=page_user, todo_id=milk.id, completed=True)
        widget_json = todo_list_widget(
            orm(lambda: list(Todo.objects.filter(owner=page_user).order_by("-id")))
        ).model_dump(mode="json", exclude_none=True)
        events = [
            {
                "type": "thread.item.updated",
                "item_id": item.id,
                "update": {"type": "widget.root.updated", "widget": widget_json},
            },
            {"type": "client_effect", "name": "todos.changed", "data": {"id": done.id}},
        ]
        route.fulfill(
            status=200,
            headers={"Content-Type": "text/event-stream"},
            body="".join(f"data: {json.dumps(event)}\n\n" for event in events),
        )

    page.route("**/chatkit", custom_action)
    wait_answered(page)  # the opened thread's check for a running turn: actions wait for it
    milk_box.focus()
    page.keyboard.press("Space")

    expect(widget.get_by_role("checkbox", name="buy milk")).to_be_checked()
    expect(widget.get_by_role("checkbox", name="buy milk")).to_be_focused()  # focus kept
    expect(todo_item(page, "buy milk")).to_have_class("todo done")  # the list, live
    assert sent == [
        {
            "type": "threads.custom_action",
            "params": {
                "thread_id": thread.id,
                "item_id": item.id,
                "action": {"type": "todos.complete", "payload": {"id": milk.id}},
            },
        }
    ]
    assert console.errors == []
