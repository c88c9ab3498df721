"""The built-in page in a real browser: the chat adds todos live in two tabs, the
ChatKit component gets our options, refusals are explained."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from accounts.models import User
from chat.tests.browser import (
    DESKTOP,
    FALLBACK_NOTICE,
    ConsoleErrors,
    assert_not_reloaded,
    composer,
    conversation,
    mark_loaded,
    orm,
    say,
    sign_in,
    thread_button,
    todo_item,
    wait_answered,
)
from config.tests.servers import ServerProcess
from todos.models import Priority
from todos.tests.factories import TodoFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def earlier_todos(page_user: User) -> list[str]:
    """A couple of todos the user already had, so the page looks lived-in."""
    todos = [
        TodoFactory(owner=page_user, title="Book a dentist appointment", priority=Priority.LOW),
        TodoFactory(
            owner=page_user,
            title="Finish the quarterly report",
            priority=Priority.HIGH,
            due_date=datetime.date(2030, 1, 31),
        ),
    ]
    return [todo.title for todo in todos]


def test_fallback_chat_adds_a_todo_live_in_two_tabs(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    earlier_todos: list[str],
    browser: Browser,
) -> None:
    # Chunks a little apart, as in the demo (nothing below depends on the pace).
    server = fallback_server(CHATKIT_OFFLINE_TOKEN_DELAY_MS="60")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    console = ConsoleErrors(page)
    sign_in(page, server, page_user)

    notice = page.locator("#chat-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(FALLBACK_NOTICE)
    expect(page.get_by_test_id("fallback-chat")).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("todo-list").locator("li.todo .todo-title")).to_have_text(
        earlier_todos[::-1]  # newest first
    )

    second = context.new_page()
    second.goto(f"{server.url}/")
    expect(second.locator("#live-status")).to_have_attribute("data-state", "live")
    for tab in (page, second):
        mark_loaded(tab)

    # What the answer's bubble shows right after each text delta the client applies:
    # the stream's own events, not paint timing (a loaded machine may deliver several
    # chunks in one read, and a timing-based observer then saw only the final text).
    page.evaluate(
        """() => {
          window.__deltas = [];
          const proto = window.TodoChat.ChatView.prototype;
          const handle = proto.handleEvent;
          proto.handleEvent = function (event, turn) {
            handle.call(this, event, turn);
            const update = (event.type === "thread.item.updated" && event.update) || {};
            if (update.type !== "assistant_message.content_part.text_delta") return;
            const log = document.querySelector('[data-testid="chat-log"]');
            const item = log.querySelector(`[data-item-id="${event.item_id}"]`);
            const bubble = item && (item.closest(".fc-assistant")
                                    || item.querySelector(".fc-assistant"));
            window.__deltas.push({ delta: update.delta, shown: bubble && bubble.textContent });
          };
        }"""
    )
    say(page, "add buy milk")

    reply = page.locator(".fc-assistant").last
    expect(reply).to_contain_text('Added "buy milk"')
    expect(todo_item(page, "buy milk")).to_be_visible()
    expect(todo_item(second, "buy milk")).to_be_visible()
    expect(page.locator(".fc-user")).to_have_text(["add buy milk"])
    expect(page.locator(".fc-thread[aria-current=true]")).to_have_count(1)
    expect(page.get_by_test_id("todo-count")).to_have_text("3 open · 0 done")

    # 'Added "buy milk"' is the first chunk: "(#3)." may still be on its way.
    wait_answered(page)
    final = reply.text_content()
    deltas = page.evaluate("window.__deltas")
    assert len(deltas) >= 2, f"the answer should stream in several chunks: {deltas}"
    so_far = ""
    for step in deltas:  # each chunk is on screen as soon as it is applied
        so_far += step["delta"]
        assert " ".join((step["shown"] or "").split()) == " ".join(so_far.split()), deltas
    assert " ".join(deltas[0]["shown"].split()) != " ".join(final.split())
    assert " ".join(so_far.split()) == " ".join(final.split())

    # Tick it in the first tab: both tabs show it done, and the counts follow.
    todo_item(page, "buy milk").get_by_role("checkbox").check()
    expect(todo_item(page, "buy milk")).to_have_class("todo done")
    expect(todo_item(second, "buy milk")).to_have_class("todo done")
    expect(todo_item(second, "buy milk").get_by_role("checkbox")).to_be_checked()
    expect(second.get_by_test_id("todo-count")).to_have_text("2 open · 1 done")
    stored = page.request.get(f"{server.url}/api/todos/").json()["results"]
    assert [(todo["title"], todo["completed"]) for todo in stored] == [
        ("buy milk", True),
        (earlier_todos[1], False),
        (earlier_todos[0], False),
    ]
    for tab in (page, second):
        assert_not_reloaded(tab)
    assert console.errors == []
    context.close()


def test_chatkit_component_gets_our_options_and_remembers_the_thread(
    run_server: Callable[..., ServerProcess], page_user: User, stub_cdn: str, browser: Browser
) -> None:
    kept = orm(conversation, page_user, ("add tea", 'Added "tea".'), title="Tea")
    server = run_server(env={"CHATKIT_JS_URL": stub_cdn, "CHATKIT_DOMAIN_KEY": "domain_pk_test"})
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, page_user)

    expect(page.locator("openai-chatkit")).to_have_text("stub ChatKit")
    expect(page.locator("#chat-notice")).to_be_hidden()
    options = page.evaluate(
        """() => {
          const { api, initialThread, startScreen } = window.__chatkitStub.options;
          return { url: api.url, domainKey: api.domainKey, fetch: typeof api.fetch,
                   initialThread, prompts: startScreen.prompts.map((p) => p.prompt),
                   listeners: window.__chatkitStub.listeners.sort(),
                   calls: window.__chatkitStub.calls };
        }"""
    )
    assert options == {
        "url": "/chatkit",
        "domainKey": "domain_pk_test",
        "fetch": "function",
        "initialThread": None,  # nothing remembered yet: a new chat
        "prompts": [
            "add water the plants",
            "list",
            "complete water the plants",
            "delete water the plants",
        ],
        "listeners": [
            "chatkit.effect",
            "chatkit.error",
            "chatkit.response.end",
            "chatkit.response.start",
            "chatkit.thread.change",
        ],
        "calls": 1,
    }

    # ChatKit says the user opened a thread: a reload starts there.
    change = """(threadId) => document.querySelector("openai-chatkit").dispatchEvent(
      new CustomEvent("chatkit.thread.change", { detail: { threadId } }))"""
    page.evaluate(change, kept.id)
    page.reload()
    expect(page.locator("openai-chatkit")).to_have_text("stub ChatKit")
    assert page.evaluate("window.__chatkitStub.options.initialThread") == kept.id

    # A new chat (threadId null) survives the reload too.
    page.evaluate(change, None)
    page.reload()
    expect(page.locator("openai-chatkit")).to_have_text("stub ChatKit")
    assert page.evaluate("window.__chatkitStub.options.initialThread") is None

    # A remembered thread that is gone opens a new chat.
    page.evaluate("localStorage.setItem(window.TodoChat.memory.threadKey, 'thr_gone')")
    page.reload()
    expect(page.locator("openai-chatkit")).to_have_text("stub ChatKit")
    assert page.evaluate("window.__chatkitStub.options.initialThread") is None
    assert page.evaluate("window.TodoChat.memory.threadId") is None

    call_chatkit = """async () => {
      const response = await window.__chatkitStub.options.api.fetch("/chatkit", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ type: "threads.list", params: { limit: 5, order: "desc" } }),
      });
      return { status: response.status, body: await response.json() };
    }"""
    is_chatkit_call = lambda request: request.url == f"{server.url}/chatkit"  # noqa: E731
    with page.expect_request(is_chatkit_call) as first:
        answer = page.evaluate(call_chatkit)
    headers = first.value.all_headers()
    assert headers["authorization"].startswith("Bearer cks_")
    assert headers["content-type"] == "application/json"  # the caller's headers are kept
    assert answer["status"] == 200
    assert [thread["id"] for thread in answer["body"]["data"]] == [kept.id]

    # The caller's abort signal reaches the real request.
    aborted = page.evaluate(
        """async () => {
          const controller = new AbortController();
          controller.abort();
          try {
            await window.__chatkitStub.options.api.fetch("/chatkit", {
              method: "POST", body: "{}", signal: controller.signal });
            return "sent";
          } catch (error) { return error.name; }
        }"""
    )
    assert aborted == "AbortError"

    # Close to expires_at, the next call mints a new secret first.
    page.evaluate("window.TodoChat.secrets.expiresAt = Date.now() / 1000 + 1")
    with (
        page.expect_request(lambda request: request.url.endswith("/api/chatkit/session")),
        page.expect_request(is_chatkit_call) as second,
    ):
        assert page.evaluate(call_chatkit)["status"] == 200
    renewed = second.value.all_headers()["authorization"]
    assert renewed.startswith("Bearer cks_")
    assert renewed != headers["authorization"]
    context.close()


def test_fallback_chat_keeps_threads_and_counts_down_a_rate_limit(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = fallback_server(CHATKIT_RATE_LIMIT="1/minute")
    page = browser.new_page()
    sign_in(page, server, page_user)

    say(page, "add call the bank")
    expect(page.locator(".fc-assistant")).to_contain_text('Added "call the bank"')
    expect(todo_item(page, "call the bank")).to_be_visible()

    # Over the rate limit: a countdown, Send waits, the text stays to send later.
    say(page, "list")
    status = page.locator(".fc-error")
    expect(status).to_contain_text("You can send again in")
    expect(composer(page)).to_have_value("list")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    expect(page.locator(".fc-user")).to_have_text(["add call the bank"])
    first = status.text_content()
    expect(status).not_to_have_text(first)  # it counts down

    # A new chat starts empty; the earlier thread is listed and reopens with its items.
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".fc-msg")).to_have_count(0)
    thread_button(page, "call the bank").click()  # titled by the todo it added
    expect(page.locator(".fc-user")).to_have_text(["add call the bank"])
    expect(page.locator(".fc-assistant")).to_contain_text('Added "call the bank"')
    page.close()


def test_the_simple_mode_note_speaks_to_users_and_goes_once_dismissed(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    """Without ChatKit's script the page says so in words for its users (not "CDN"),
    and "Got it" puts the note away for good in this browser."""
    server = fallback_server()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, server, page_user)
    notice = page.locator("#chat-notice")
    expect(notice).to_contain_text(FALLBACK_NOTICE)
    for developer_word in ("CDN", "ChatKit", "client"):
        assert developer_word not in notice.text_content()

    notice.get_by_role("button", name="Got it: hide this note").click()
    expect(notice).to_be_hidden()
    expect(composer(page)).to_be_focused()
    page.reload()
    expect(page.get_by_test_id("fallback-chat")).to_be_visible()
    expect(notice).to_be_hidden()

    fresh = browser.new_context(viewport=DESKTOP).new_page()  # another browser profile
    sign_in(fresh, server, page_user)
    expect(fresh.locator("#chat-notice")).to_contain_text(FALLBACK_NOTICE)
    context.close()
    fresh.context.close()
