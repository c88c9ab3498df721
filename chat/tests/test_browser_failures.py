"""When things fail: a message sent while the server is down is kept and sent
once later, a failed turn offers Retry, signing out locks every other tab."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from accounts.models import User
from chat.models import ItemType, ThreadItem
from chat.tests.browser import composer, open_page, orm, say, todo_item, wait_answered
from chat.tests.fake_openai import FakeOpenAI
from config.tests.servers import ServerProcess, free_port, start_server
from todos.models import Todo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def user_messages(text: str) -> int:
    return sum(
        1 for item in ThreadItem.objects.filter(type=ItemType.USER_MESSAGE) if item.text == text
    )


def test_a_message_sent_while_the_server_is_down_is_kept_then_sent_once(
    run_server: Callable[..., ServerProcess],
    server_env: dict[str, str],
    tmp_path: Path,
    page_user: User,
    browser: Browser,
) -> None:
    env = {"CHATKIT_JS_URL": f"http://127.0.0.1:{free_port()}/chatkit.js"}
    server = run_server(env=env)
    page = open_page(browser, server, page_user)
    say(page, "add first thing")
    expect(page.locator(".fc-assistant")).to_contain_text('Added "first thing"')

    server.stop()
    say(page, "add while down")

    expect(page.locator(".fc-error")).to_contain_text("wasn't sent")
    expect(composer(page)).to_have_value("add while down")
    expect(page.locator(".fc-user")).to_have_text(["add first thing"])  # no orphan bubble

    back = start_server(env={**server_env, **env}, log_dir=tmp_path, port=server.port)
    try:
        composer(page).press("Enter")
        expect(page.locator(".fc-assistant").last).to_contain_text('Added "while down"')
        expect(page.locator(".fc-user")).to_have_text(["add first thing", "add while down"])
        expect(page.locator(".fc-error")).to_be_hidden()
        expect(todo_item(page, "while down")).to_be_visible()
        page.reload()
        expect(page.locator(".fc-user")).to_have_text(["add first thing", "add while down"])
        assert orm(user_messages, "add while down") == 1
        assert orm(lambda: Todo.objects.filter(title="while down").count()) == 1
    finally:
        back.stop()


@pytest.fixture
def failing_model() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(mode="rate_limit").start()
    yield fake
    fake.stop()


def test_a_failed_turn_can_be_retried(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    failing_model: FakeOpenAI,
    browser: Browser,
) -> None:
    server = fallback_server(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=failing_model.base_url)
    page = open_page(browser, server, page_user)

    say(page, "please add oat milk")
    expect(page.locator(".fc-main")).to_contain_text("The assistant is busy right now")
    expect(page.locator(".fc-user")).to_have_text(["please add oat milk"])  # kept, stored
    expect(page.get_by_text("You can try again")).to_have_count(0)  # said once

    # After a reload the failed turn still offers to try again.
    page.reload()
    retry = page.get_by_role("button", name=re.compile(r"^(Retry|Try again)$"))
    expect(retry).to_be_visible()
    # Shown with the thread's items, right before the page asks whether a turn still
    # runs there: a Retry pressed before the answer (204) is ignored by design.
    wait_answered(page)

    failing_model.mode = "script"
    retry.click()
    expect(page.locator(".fc-assistant").last).to_contain_text("Added oat milk to your list.")
    expect(todo_item(page, "Buy oat milk")).to_be_visible()
    expect(page.locator(".fc-user")).to_have_text(["please add oat milk"])
    page.reload()
    expect(page.locator(".fc-assistant").last).to_contain_text("Added oat milk to your list.")
    assert orm(lambda: Todo.objects.filter(title="Buy oat milk").count()) == 1


def test_signing_out_in_one_tab_locks_the_others(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user)
    other = page.context.new_page()
    other.goto(f"{server.url}/")
    expect(other.locator("#live-status")).to_have_attribute("data-state", "live")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{server.url}/accounts/login/")

    banner = other.locator("#signed-out")
    expect(banner).to_contain_text("You're signed out")
    expect(other.get_by_role("link", name="Sign in again")).to_be_focused()
    # It looks signed out too: no "Sign out" to press, no green "live" dot.
    expect(other.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(other.locator("#live-status")).to_have_attribute("data-state", "signed-out")
    expect(other.locator("#live-status")).to_have_text("signed out")
    expect(other.locator("#main")).to_have_js_property("inert", True)
    # Nothing in it can change anything: the server refuses too.
    answer = other.request.post(f"{server.url}/api/todos/", data={"title": "late"})
    assert answer.status in (401, 403)

    # A tab that missed the broadcast finds out on its next call (401).
    other.get_by_role("link", name="Sign in again").click()
    other.get_by_label("Username").fill(page_user.username)
    other.get_by_label("Password").fill("pw-for-browser-tests-1")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_test_id("fallback-chat")).to_be_visible()
    token = other.evaluate("window.TodoChat.getCookie('csrftoken')")
    other.request.post(f"{server.url}/accounts/logout/", headers={"X-CSRFToken": token})
    other.evaluate("window.TodoChat.todos.refresh()")  # as a reconnect or an effect would
    expect(other.locator("#signed-out")).to_contain_text("You're signed out")
    assert orm(lambda: Todo.objects.filter(title="late").count()) == 0
