"""The built-in client remembers where the user was: the thread reopens after a
reload, a new chat stays new, a thread that is gone falls back quietly; the
thread list pages, dates, renames and deletes."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from accounts.models import User
from chat.models import Thread
from chat.offline_model import HELP_TEXT
from chat.tests.browser import (
    ConsoleErrors,
    conversation,
    open_page,
    orm,
    say,
    stored_thread_id,
    thread_button,
)
from chat.tests.factories import ThreadFactory
from config.tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def two_threads(page_user: User) -> list[Thread]:
    return [
        conversation(page_user, ("add tea", 'Added "tea".'), title="Tea"),
        conversation(page_user, ("add jam", 'Added "jam".'), title="Jam"),
    ]


def test_reload_reopens_the_thread_and_a_new_chat_stays_new(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    two_threads: list[Thread],
    browser: Browser,
) -> None:
    tea, _ = two_threads
    server = fallback_server()
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)

    # Nothing remembered yet: a new chat, with hints that work as typed.
    expect(page.locator(".fc-empty .chip")).to_have_count(4)
    thread_button(page, "Tea").click()
    expect(page.locator(".fc-user")).to_have_text(["add tea"])
    expect(thread_button(page, "Tea")).to_have_attribute("aria-current", "true")
    assert stored_thread_id(page) == tea.id

    page.reload()
    expect(page.locator(".fc-user")).to_have_text(["add tea"])
    expect(page.locator(".fc-assistant")).to_have_text(['Added "tea".'])
    expect(thread_button(page, "Tea")).to_have_attribute("aria-current", "true")

    # A thread started here is remembered from its first event.
    page.get_by_role("button", name="New chat").click()
    assert stored_thread_id(page) is None
    page.reload()
    expect(page.locator(".fc-empty")).to_be_visible()
    expect(page.locator(".fc-thread[aria-current]")).to_have_count(0)
    say(page, "add rice")
    expect(page.locator(".fc-assistant")).to_contain_text('Added "rice"')
    new_id = stored_thread_id(page)
    assert new_id and new_id not in {thread.id for thread in two_threads}
    page.reload()
    expect(page.locator(".fc-user")).to_have_text(["add rice"])
    assert console.errors == []


def test_a_remembered_thread_that_is_gone_falls_back_to_a_new_chat(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    two_threads: list[Thread],
    browser: Browser,
) -> None:
    tea, _ = two_threads
    server = fallback_server()
    page = open_page(browser, server, page_user)
    thread_button(page, "Tea").click()
    expect(page.locator(".fc-user")).to_have_text(["add tea"])

    orm(lambda: Thread.objects.filter(pk=tea.pk).delete())  # purged meanwhile
    page.reload()

    expect(page.locator(".fc-empty")).to_be_visible()
    expect(page.locator(".fc-error")).to_be_hidden()
    expect(thread_button(page, "Tea")).to_have_count(0)
    assert stored_thread_id(page) is None

    # Another account's thread id (a shared browser) is just as unknown.
    page.evaluate("(id) => localStorage.setItem(window.TodoChat.memory.threadKey, id)", "thr_x")
    page.reload()
    expect(page.locator(".fc-empty")).to_be_visible()
    expect(page.locator(".fc-error")).to_be_hidden()


@pytest.fixture
def many_threads(page_user: User) -> list[Thread]:
    """35 threads, a day apart: more than one page of the list."""
    now = timezone.now()
    return [
        ThreadFactory(
            owner=page_user, title=f"Chat number {n}", created_at=now - datetime.timedelta(days=n)
        )
        for n in range(35)
    ]


def test_thread_list_pages_dates_renames_and_deletes(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    many_threads: list[Thread],
    browser: Browser,
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user)
    threads = page.locator(".fc-thread-row")
    expect(threads).to_have_count(30)
    expect(thread_button(page, "Chat number 0").locator("time")).not_to_be_empty()

    page.get_by_role("button", name="Show older chats").click()
    expect(threads).to_have_count(35)
    expect(thread_button(page, "Chat number 34")).to_be_visible()
    expect(page.get_by_role("button", name="Show older chats")).to_be_hidden()

    # Rename: Enter saves, and the name is stored.
    page.get_by_role("button", name="Rename “Chat number 1”").click()
    name = page.get_by_role("textbox", name="Chat name")
    name.fill("Groceries")
    name.press("Enter")
    expect(thread_button(page, "Groceries")).to_be_focused()
    assert orm(lambda: Thread.objects.get(pk=many_threads[1].pk).title) == "Groceries"

    # Delete asks first; "Keep" keeps it, "Delete" removes it for good.
    page.get_by_role("button", name="Delete “Groceries”").click()
    page.get_by_role("button", name="Keep").click()
    expect(thread_button(page, "Groceries")).to_be_focused()
    page.get_by_role("button", name="Delete “Groceries”").click()
    page.get_by_role("button", name="Yes, delete “Groceries”").click()
    expect(thread_button(page, "Groceries")).to_have_count(0)
    expect(threads).to_have_count(34)
    # Focus goes to the chat that took its place.
    expect(thread_button(page, "Chat number 2")).to_be_focused()
    assert not orm(lambda: Thread.objects.filter(pk=many_threads[1].pk).exists())


def test_a_stopped_answer_keeps_its_mark_after_a_reload(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = fallback_server(CHATKIT_OFFLINE_TOKEN_DELAY_MS="400")
    page = open_page(browser, server, page_user)
    say(page, "what can you do?")
    answer = page.locator(".fc-assistant")
    expect(answer).not_to_be_empty()  # the first chunks are in
    page.get_by_role("button", name="Stop").click()
    expect(answer).to_have_class("fc-msg fc-assistant md stopped")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    partial = answer.text_content()

    page.reload()
    expect(page.locator(".fc-assistant")).to_have_class("fc-msg fc-assistant md stopped")
    # The server stopped the turn (the stop endpoint): what it stored is what was shown,
    # or a chunk more that was under way, never the whole answer.
    stored = page.locator(".fc-assistant").text_content()
    assert stored.startswith(partial) and len(stored) < len(HELP_TEXT)
