"""With ChatKit's web component, the page follows the open thread (issue 19): the
socket's `thread.changed` for it calls the component's fetchUpdates(), throttled (a
burst: at most one call a second, the last change always fetched), never for other
threads; deleted elsewhere, the component starts a new chat and the page says why.

The component is the kit's stub (chat/tests/browser.py): it records the page's calls
and the thread it shows. Changes come from a second tab of the same user, through the
real /chatkit."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from chat.models import Thread
from chat.tests.browser import ConsoleErrors, conversation, sign_in, wait_live
from config.tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Records each thread.changed the page's socket receives, before the page handles it
# (the browser's WebSocket, observed; the page's code is the real one).
SOCKET_SPY = """
window.__threadChanges = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "thread.changed") return;
      window.__threadChanges.push({ ...message, at: performance.now() });
    });
  }
};
"""

# One ChatKit request from a tab, read to its end (a turn's stream too).
CHATKIT_REQUESTS = """async (bodies) => {
  for (const body of bodies) {
    const response = await window.TodoChat.secrets.fetch("/chatkit", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${body.type}: ${response.status}`);
    await response.text();
  }
}"""

THROTTLE_MS = 1000
DELETED = "This chat was deleted in another tab or window."


def turn(thread: Thread, text: str) -> dict:
    content = [{"type": "input_text", "text": text}]
    message = {"content": content, "attachments": [], "inference_options": {}}
    params = {"thread_id": thread.id, "input": message}
    return {"type": "threads.add_user_message", "params": params}


def rename(thread: Thread, title: str) -> dict:
    return {"type": "threads.update", "params": {"thread_id": thread.id, "title": title}}


def changes(page: Page, thread: Thread) -> list[dict]:
    script = "(id) => window.__threadChanges.filter((m) => m.thread_id === id)"
    return page.evaluate(script, thread.id)


def fetch_updates(page: Page) -> list[dict]:
    return page.evaluate("window.__chatkitStub.fetchUpdates")


def open_component(browser: Browser, server: ServerProcess, user: User) -> Page:
    page = browser.new_context().new_page()
    page.add_init_script(SOCKET_SPY)
    sign_in(page, server, user)
    expect(page.locator("openai-chatkit")).to_have_text("stub ChatKit")
    wait_live(page)
    return page


def second_tab(page: Page, server: ServerProcess) -> Page:
    other = page.context.new_page()
    other.goto(f"{server.url}/")
    expect(other.locator("openai-chatkit")).to_have_text("stub ChatKit")
    return other


@pytest.fixture
def tea(page_user: User) -> Thread:
    return conversation(page_user, ("add tea", 'Added "tea".'), title="Tea")


@pytest.fixture
def jam(page_user: User) -> Thread:
    return conversation(page_user, ("add jam", 'Added "jam".'), title="Jam")


def test_the_component_fetches_updates_of_its_open_thread_throttled(
    run_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    jam: Thread,
    stub_cdn: str,
    browser: Browser,
) -> None:
    server = run_server(env={"CHATKIT_JS_URL": stub_cdn})
    page = open_component(browser, server, page_user)
    console = ConsoleErrors(page)
    page.evaluate("(id) => document.querySelector('openai-chatkit').open(id)", tea.id)
    other = second_tab(page, server)

    # Another thread's turn and renames: announced on this page's socket, not fetched.
    other.evaluate(CHATKIT_REQUESTS, [turn(jam, "add bread"), rename(jam, "Jam 2")])
    page.wait_for_function(
        "(id) => window.__threadChanges.filter((m) => m.thread_id === id).length >= 3", arg=jam.id
    )
    assert fetch_updates(page) == []

    # The open thread: a turn in the other tab, then a burst of renames.
    renames = [rename(tea, f"Tea {n}") for n in range(3)]
    other.evaluate(CHATKIT_REQUESTS, [turn(tea, "add tea bags"), *renames])
    # The turn's end (its unlock) and the three titles have come, and a call after them.
    page.wait_for_function(
        """(id) => {
          const seen = window.__threadChanges.filter((m) => m.thread_id === id);
          const calls = window.__chatkitStub.fetchUpdates;
          return seen.some((m) => m.reason === "status")
            && seen.filter((m) => m.reason === "title").length >= 3
            && calls.length > 0 && calls.at(-1).at >= seen.at(-1).at;
        }""",
        arg=tea.id,
    )
    seen = changes(page, tea)
    calls = fetch_updates(page)
    assert {call["thread"] for call in calls} == {tea.id}
    # Throttled: fewer calls than changes, about a second apart...
    assert len(calls) < len(seen)
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(calls)]
    assert all(gap >= THROTTLE_MS - 50 for gap in gaps), gaps
    # ...and each one answers a change that came after the one before (none for Jam's).
    previous = -1.0
    for call in calls:
        assert any(previous < change["at"] <= call["at"] for change in seen), (calls, seen)
        previous = call["at"]
    assert console.errors == []


def test_the_components_thread_deleted_elsewhere_becomes_a_new_chat(
    run_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    jam: Thread,
    stub_cdn: str,
    browser: Browser,
) -> None:
    server = run_server(env={"CHATKIT_JS_URL": stub_cdn})
    page = open_component(browser, server, page_user)
    console = ConsoleErrors(page)
    chatkit = page.locator("openai-chatkit")
    notice = page.locator("#chat-notice")
    chatkit.evaluate("(node, id) => node.open(id)", tea.id)
    other = second_tab(page, server)

    other.evaluate(CHATKIT_REQUESTS, [{"type": "threads.delete", "params": {"thread_id": tea.id}}])
    expect(notice).to_have_text(DELETED)
    expect(notice).to_be_visible()
    assert page.evaluate("window.__chatkitStub.setThreadId") == [None]  # a new chat
    assert page.evaluate("window.TodoChat.memory.threadId") is None

    # Opening a chat puts the note away; deleting it from this tab (ChatKit's own
    # threads.delete, through the page's fetch) is not news.
    chatkit.evaluate("(node, id) => node.open(id)", jam.id)
    expect(notice).to_be_hidden()
    page.evaluate(
        """(id) => window.__chatkitStub.options.api.fetch("/chatkit", {
             method: "POST", headers: { "Content-Type": "application/json" },
             body: JSON.stringify({ type: "threads.delete", params: { thread_id: id } }) })""",
        jam.id,
    )
    page.wait_for_function(
        "(id) => window.__threadChanges.some((m) => m.thread_id === id && m.reason === 'deleted')",
        arg=jam.id,
    )
    expect(notice).to_be_hidden()
    assert page.evaluate("window.__chatkitStub.setThreadId") == [None]
    assert fetch_updates(page) == []
    assert console.errors == []
