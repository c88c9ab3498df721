"""axe-core on the sign-in page and the signed-in page, at desktop (1280) and phone (390)
widths: no serious or critical violation (the todo badges' colour contrast failed)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from chat.tests.axe import axe_source, blocking_violations
from chat.tests.browser import (
    DESKTOP,
    PHONE,
    conversation,
    save_widget,
    sign_in,
    thread_button,
    todo_list_widget,
)
from config.tests.servers import ServerProcess
from todos.models import Priority
from todos.tests.factories import TodoFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def every_badge(page_user: User) -> None:
    """Todos with each badge the list can show (priorities, due today, overdue, later, done)
    and a conversation ending in a todo list widget."""
    today = datetime.date.today()
    todos = [
        TodoFactory(owner=page_user, title="Call mum", due_date=today),
        TodoFactory(
            owner=page_user,
            title="Pay the rent",
            priority=Priority.HIGH,
            due_date=today - datetime.timedelta(days=2),
        ),
        TodoFactory(
            owner=page_user,
            title="Water the plants",
            priority=Priority.LOW,
            due_date=today + datetime.timedelta(days=9),
        ),
        TodoFactory(
            owner=page_user,
            title="Renew the library card",
            completed=True,
            priority=Priority.HIGH,
            due_date=today,
        ),
    ]
    thread = conversation(page_user, ("list", "Here are your todos."), title="My todos")
    save_widget(thread, todo_list_widget(todos), copy_text="Your todos")


def _assert_clean(page: Page, where: str) -> None:
    found = blocking_violations(page)
    assert found == [], f"{where}: " + "\n".join(
        f"{v['impact']} {v['id']} ({v['count']} elements): {v['help']}\n  "
        + "\n  ".join(v["nodes"])
        for v in found
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_page_has_no_serious_violations(
    page_user: User, run_server, browser: Browser, width: str
) -> None:
    server = run_server()
    context = browser.new_context(viewport=WIDTHS[width])
    context.add_init_script(script=axe_source())
    page = context.new_page()
    page.goto(f"{server.url}/accounts/login/")
    expect(page.get_by_label("Password")).to_be_visible()
    _assert_clean(page, f"sign-in page, {width}")
    # And with the error a wrong password shows.
    page.get_by_label("Username").fill(page_user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Password")).to_be_visible()
    _assert_clean(page, f"sign-in page with an error, {width}")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_signed_in_page_has_no_serious_violations(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    every_badge: None,
    browser: Browser,
    width: str,
) -> None:
    server = fallback_server()
    context = browser.new_context(viewport=WIDTHS[width])
    context.add_init_script(script=axe_source())
    page = context.new_page()
    sign_in(page, server, page_user)
    expect(page.get_by_test_id("todo-list").locator("li")).to_have_count(4)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    _assert_clean(page, f"todos, {width}")

    if width == "phone":
        page.get_by_role("button", name="Chat", exact=True).click()
        page.get_by_role("button", name="Chats").click()
    thread_button(page, "My todos").click()
    widget = page.locator(".fc-widget")
    expect(widget.get_by_role("checkbox", name="Pay the rent")).to_be_visible()
    _assert_clean(page, f"chat with a todo list widget, {width}")
    context.close()
