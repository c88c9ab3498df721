"""The page on a phone and from the keyboard, with long lists: the chat one tap
away and nothing overflowing at 390x844; a keyboard-only walk keeps focus where
the user acted; more than 100 todos are all reachable with true counts. Also
takes the README's screenshots (docs/screenshot.png, docs/phone.png)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from chat.tests.browser import (
    DESKTOP,
    PHONE,
    ConsoleErrors,
    composer,
    conversation,
    open_page,
    save_screenshot,
    say,
    todo_item,
)
from config.tests.servers import ServerProcess
from todos.models import Priority, Todo
from todos.tests.factories import TodoFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Elements whose right edge passes the viewport (visible ones only), or that clip their text.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const node of document.querySelectorAll("body *")) {
    const box = node.getBoundingClientRect();
    if (!box.width || !box.height || node.closest(".visually-hidden, .skip-link")) continue;
    if (box.left < -1 || box.right > width + 1) out.push(node.className || node.tagName);
  }
  if (document.documentElement.scrollWidth > width) out.push("page scrolls sideways");
  return out;
}"""

PLACEHOLDER_FITS = """(input) => {
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontSize} ${style.fontFamily}`;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(input.placeholder).width <= room;
}"""


@pytest.fixture
def lived_in(page_user: User) -> None:
    """What the screenshots show: a few todos and an earlier chat."""
    today = datetime.date.today()
    TodoFactory(owner=page_user, title="Renew the library card", completed=True)
    TodoFactory(owner=page_user, title="Book a dentist appointment", priority=Priority.LOW)
    TodoFactory(
        owner=page_user,
        title="Finish the quarterly report",
        description="Send it to the team by Friday.",
        priority=Priority.HIGH,
        due_date=today + datetime.timedelta(days=3),
    )
    TodoFactory(owner=page_user, title="Call mum", due_date=today)
    conversation(page_user, ("add call mum", 'Added "call mum" to your todos.'), title="Call mum")


def test_phone_has_the_chat_one_tap_away_and_nothing_overflows(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    lived_in: None,
    browser: Browser,
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user, viewport=PHONE)
    console = ConsoleErrors(page)
    expect(page.get_by_test_id("todo-list").locator("li")).to_have_count(4)
    assert page.evaluate(OVERFLOWING) == []
    expect(page.locator("#chat-panel")).to_be_hidden()

    page.get_by_role("button", name="Chat", exact=True).click()
    expect(composer(page)).to_be_in_viewport()
    expect(page.locator("#todos-panel")).to_be_hidden()
    assert composer(page).evaluate(PLACEHOLDER_FITS), "the composer's placeholder is clipped"
    new_chat = page.get_by_role("button", name="New chat")
    assert new_chat.evaluate(
        "(b) => { const r = document.createRange(); r.selectNodeContents(b.lastChild);"
        " return r.getClientRects().length === 1; }"  # the words "New chat" on one line
    ), "“New chat” wraps"
    assert new_chat.evaluate("(b) => b.scrollWidth <= b.clientWidth")

    say(page, "add water the plants")
    expect(page.locator(".fc-assistant")).to_contain_text('Added "water the plants"')
    page.get_by_role("button", name="Chats").click()
    expect(page.locator(".fc-thread-title").first).to_be_visible()
    titles = page.locator(".fc-thread-title")
    for index in range(titles.count()):
        assert titles.nth(index).evaluate("(t) => t.scrollWidth <= t.clientWidth")
    assert page.evaluate(OVERFLOWING) == []
    page.get_by_role("button", name="Chats").click()
    say(page, "list")
    expect(
        page.locator(".fc-widget").get_by_role("checkbox", name="water the plants")
    ).to_be_visible()
    assert page.evaluate(OVERFLOWING) == []
    save_screenshot(page, "phone.png")

    # The view survives a reload; the todos are one tap back.
    page.reload()
    expect(composer(page)).to_be_visible()
    page.get_by_role("button", name="Todos").click()
    expect(todo_item(page, "water the plants")).to_be_visible()
    assert console.errors == []


def press_until_focused(page: Page, key: str, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def test_keyboard_only_walk(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    lived_in: None,
    browser: Browser,
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user, viewport=DESKTOP)
    console = ConsoleErrors(page)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    for landmark in ("banner", "main"):
        expect(page.get_by_role(landmark)).to_have_count(1)
    rows = page.get_by_test_id("todo-list").locator("li")
    expect(rows).to_have_count(4)

    # First Tab: the skip link, straight to the composer.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to chat")).to_be_focused()
    page.keyboard.press("Enter")
    expect(composer(page)).to_be_focused()
    page.keyboard.type("add water the plants")
    page.keyboard.press("Enter")
    expect(page.locator(".fc-assistant")).to_contain_text('Added "water the plants"')
    expect(composer(page)).to_be_focused()
    expect(rows).to_have_count(5)

    # Each todo is one tab stop.
    page.keyboard.press("Shift+Tab")  # leave the chat, start over from the top
    page.evaluate("document.activeElement.blur()")
    press_until_focused(page, "Tab", "li.todo")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("Tab")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(rows.nth(0)).to_have_attribute("aria-label", "water the plants, open")

    # Space ticks it and focus stays on it.
    page.keyboard.press("Space")
    expect(todo_item(page, "water the plants")).to_have_class("todo done")
    expect(todo_item(page, "water the plants")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Completed “water the plants”.")

    # Enter edits in place: title, description, due date, priority.
    page.keyboard.press("Enter")
    title = page.get_by_role("textbox", name="Title")
    expect(title).to_be_focused()
    title.fill("water the plants twice")
    page.keyboard.press("Tab")
    page.keyboard.type("The fern and the cactus.")
    page.keyboard.press("Tab")
    page.keyboard.type("03152031")  # the date field: month, day, year
    press_until_focused(page, "Tab", "select[name=priority]", limit=4)
    page.keyboard.type("h")  # priority: type-ahead to "high"
    page.get_by_role("button", name="Save").press("Enter")
    edited = todo_item(page, "water the plants twice")
    expect(edited).to_be_focused()
    expect(edited).to_contain_text("The fern and the cactus.")
    expect(edited).to_contain_text("high")
    listed = page.request.get(f"{server.url}/api/todos/").json()
    count_before, stored = listed["count"], listed["results"][0]
    assert (stored["description"], stored["due_date"], stored["priority"]) == (
        "The fern and the cactus.",
        "2031-03-15",
        "high",
    )

    # Backspace never deletes. Delete asks first, in the row (Escape keeps the todo,
    # Enter deletes it); then focus moves to the next todo, and Undo brings it back.
    page.keyboard.press("Backspace")
    expect(edited).to_be_focused()
    page.keyboard.press("Delete")
    question = page.get_by_role("group", name="Delete “water the plants twice”?")
    expect(question.get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Escape")
    expect(todo_item(page, "water the plants twice")).to_be_focused()
    assert page.request.get(f"{server.url}/api/todos/").json()["count"] == count_before
    page.keyboard.press("Delete")
    page.keyboard.press("Enter")
    expect(todo_item(page, "water the plants twice")).to_have_count(0)
    expect(rows.nth(0)).to_be_focused()
    page.get_by_role("button", name="Undo deleting “water the plants twice”").click()
    expect(todo_item(page, "water the plants twice")).to_be_focused()

    # Opening a thread from the keyboard keeps focus on it and marks it current.
    press_until_focused(page, "Tab", ".fc-thread")
    page.keyboard.press("Enter")
    current = page.locator(".fc-thread[aria-current=true]")
    expect(current).to_be_focused()
    expect(page.locator(".fc-user").first).to_be_visible()
    page.keyboard.press("Escape")
    say(page, "list")
    expect(page.locator(".fc-widget").get_by_role("checkbox", name="Call mum")).to_be_visible()
    page.locator("#announcer").evaluate("(node) => { node.textContent = ''; }")
    page.mouse.move(0, 0)
    save_screenshot(page, "screenshot.png")
    assert console.errors == []


@pytest.fixture
def many_todos(page_user: User) -> None:
    """110 open todos and 1 done: more than the API's largest page."""
    now = datetime.datetime.now(datetime.UTC)
    Todo.objects.bulk_create(
        Todo(
            owner=page_user,
            title=f"Todo number {n}",
            created_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(110)
    )
    TodoFactory(owner=page_user, title="The done one", completed=True)


def test_more_than_100_todos_are_all_reachable_with_true_counts(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    many_todos: None,
    browser: Browser,
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user)
    rows = page.get_by_test_id("todo-list").locator("li")
    expect(page.get_by_test_id("todo-count")).to_have_text("110 open · 1 done")
    expect(rows).to_have_count(50)

    more = page.get_by_role("button", name="Load more todos")
    more.click()
    expect(rows).to_have_count(100)
    more.click()
    expect(rows).to_have_count(111)
    expect(more).to_be_hidden()
    expect(todo_item(page, "Todo number 109")).to_be_visible()

    page.get_by_role("button", name="Done", exact=True).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("The done one")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(rows).to_have_count(50)
    rows.first.focus()
    page.keyboard.press("Space")  # tick it: it leaves the "open" view
    expect(rows).to_have_count(49)
    expect(page.get_by_test_id("todo-count")).to_have_text("109 open · 2 done")
