"""Answers that survive, in the built-in client: a reload mid-answer follows the
running turn to its end (GET …/events), and an open thread and the list of threads
follow what another tab does (the socket's `thread.changed`)."""

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
    orm,
    say,
    thread_button,
    wait_live,
)
from config.tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def tea(page_user: User) -> Thread:
    return conversation(page_user, ("add tea", 'Added "tea".'), title="Tea")


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


def test_another_tabs_message_right_after_this_tabs_own_turn_appears(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    browser: Browser,
) -> None:
    """The tab that streamed a turn hears that turn's own thread.changed too: they
    redraw nothing it shows, and a change from another tab right behind them is not
    mistaken for them (it once was, for 1.5 s after each turn)."""
    first, second = two_tabs_on_tea(browser, fallback_server(), page_user)
    console = ConsoleErrors(first)

    say(first, "add jam")
    expect(first.locator(".fc-assistant").last).to_contain_text('Added "jam"')
    # Marked once its stream is done (the stream itself redraws it at thread.item.done).
    jam_answer = first.locator(".fc-answer").last
    expect(jam_answer.get_by_role("button", name="Copy answer")).to_be_visible()
    jam_answer.evaluate("node => { node.kept = true; }")
    expect(second.locator(".fc-assistant").last).to_contain_text('Added "jam"')
    expect(second.get_by_role("button", name="Send")).to_be_visible()  # done following it
    say(second, "add honey")

    expect(first.locator(".fc-user")).to_have_text(["add tea", "add jam", "add honey"])
    expect(first.locator(".fc-assistant").last).to_contain_text('Added "honey"')
    # Its own answer was left as drawn: the same node, not a redraw.
    kept = first.locator(".fc-answer", has_text='Added "jam"')
    assert kept.evaluate("node => node.kept === true")
    assert console.errors == []


def test_a_list_refreshed_by_another_tab_keeps_the_delete_being_confirmed(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    browser: Browser,
) -> None:
    orm(conversation, page_user, ("add jam", 'Added "jam".'), title="Jam")
    first, second = two_tabs_on_tea(browser, fallback_server(), page_user)
    console = ConsoleErrors(first)
    first.get_by_role("button", name="Delete “Tea”").click()
    keep = first.get_by_role("button", name="Keep")
    expect(keep).to_be_focused()

    # Another tab renames the other chat: this tab's list reloads around the question.
    second.get_by_role("button", name="Rename “Jam”").click()
    second.get_by_role("textbox", name="Chat name").fill("Jam 2")
    second.get_by_role("textbox", name="Chat name").press("Enter")
    expect(thread_button(first, "Jam 2")).to_be_visible()
    expect(first.get_by_role("group", name="Delete “Tea”?")).to_be_visible()
    expect(keep).to_be_focused()

    first.get_by_role("button", name="Yes, delete “Tea”").click()
    expect(thread_button(first, "Tea")).to_have_count(0)
    expect(thread_button(first, "Jam 2")).to_be_focused()
    assert console.errors == []
