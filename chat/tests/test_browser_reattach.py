"""Answers that survive, in the built-in client: a reload mid-answer follows the
running turn to its end (GET …/events), and an open thread follows what another
tab does to it (the socket's `thread.changed`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from chat.models import Thread
from chat.tests.browser import (
    ConsoleErrors,
    composer,
    conversation,
    open_page,
    say,
    thread_button,
)
from config.tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def tea(page_user: User) -> Thread:
    return conversation(page_user, ("add tea", 'Added "tea".'), title="Tea")


def wait_live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def test_a_reload_mid_answer_shows_the_whole_answer_once(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    # The offline help answer is 15 chunks: about 4.5 s at 300 ms a chunk.
    server = fallback_server(CHATKIT_OFFLINE_TOKEN_DELAY_MS="300")
    page = open_page(browser, server, page_user)
    say(page, "what can you do?")
    expect(page.locator(".fc-assistant")).to_contain_text("manage your todos")

    page.reload()
    console = ConsoleErrors(page)
    answer = page.locator(".fc-assistant")
    # Still running: Stop is offered, and the answer has no Good/Bad/Copy yet.
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(page.locator(".fc-copy")).to_be_hidden()
    # It finishes here, drawn once over what the reload loaded, not appended to it.
    expect(answer).to_contain_text("search <text>")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(answer).to_have_count(1)
    text = answer.text_content() or ""
    assert text.count("I can manage your todos") == 1
    assert text.count("search <text>") == 1
    expect(page.locator(".fc-copy")).to_be_visible()
    expect(answer).not_to_have_class("fc-msg fc-assistant md stopped")
    assert console.errors == []


def two_tabs_on_tea(browser: Browser, server: ServerProcess, user: User) -> tuple[Page, Page]:
    """Two tabs of one user, both with the "Tea" chat open and their sockets live."""
    tabs = (open_page(browser, server, user), open_page(browser, server, user))
    for page in tabs:
        thread_button(page, "Tea").click()
        expect(page.locator(".fc-user")).to_have_text(["add tea"])
        wait_live(page)
    return tabs


def test_a_message_sent_in_one_tab_appears_in_the_other(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    browser: Browser,
) -> None:
    first, second = two_tabs_on_tea(browser, fallback_server(), page_user)

    say(first, "add jam")
    expect(first.locator(".fc-assistant").last).to_contain_text('Added "jam"')
    expect(second.locator(".fc-user")).to_have_text(["add tea", "add jam"])
    expect(second.locator(".fc-assistant").last).to_contain_text('Added "jam"')
    expect(second.locator(".fc-assistant")).to_have_count(2)


def test_a_chat_deleted_in_another_tab_closes_and_keeps_the_draft(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    browser: Browser,
) -> None:
    first, second = two_tabs_on_tea(browser, fallback_server(), page_user)
    composer(second).fill("half a thought")

    first.get_by_role("button", name="Delete “Tea”").click()
    first.get_by_role("button", name="Yes, delete “Tea”").click()
    expect(thread_button(first, "Tea")).to_have_count(0)
    # The tab that deleted it says nothing more; the other one explains.
    expect(first.locator(".fc-error")).to_be_hidden()

    expect(second.locator(".fc-error")).to_have_text(
        "This chat was deleted in another tab or window."
    )
    expect(second.locator(".fc-empty")).to_be_visible()
    expect(thread_button(second, "Tea")).to_have_count(0)
    expect(composer(second)).to_have_value("half a thought")
