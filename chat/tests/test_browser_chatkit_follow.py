"""With ChatKit's web component, the page follows the open thread (issue 19): the
socket's `thread.changed` for it calls the component's fetchUpdates(), throttled (a
burst: at most one call a second, the last change always fetched), never for other
threads; deleted elsewhere, the component starts a new chat and the page says why.
ChatKit's Stop (it aborts its stream) stops the turn on the server, a reload does not.

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
from chat.offline_model import HELP_TEXT
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


# ChatKit's request as its Stop ends it: the answer has begun, then the stream is aborted
# (`pagehide` first: the tab is going away, e.g. a reload).
STREAM_THEN_ABORT = """async ({ body, unloading }) => {
  const controller = new AbortController();
  const response = await window.__chatkitStub.options.api.fetch("/chatkit", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes("text_delta")) seen += decoder.decode((await reader.read()).value);
  if (unloading) window.dispatchEvent(new PageTransitionEvent("pagehide"));
  controller.abort();
}"""

# The thread's last stored answer, read as ChatKit reads it.
STORED_ANSWER = """async (threadId) => {
  const response = await window.TodoChat.secrets.fetch("/chatkit", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      type: "items.list", params: { thread_id: threadId, limit: 5, order: "desc" } }),
  });
  const answer = (await response.json()).data.find((item) => item.type === "assistant_message");
  return answer.content.map((part) => part.text).join("");
}"""


def test_chatkits_stop_ends_the_turn_on_the_server(
    run_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    stub_cdn: str,
    browser: Browser,
) -> None:
    # The help answer is 15 chunks, 300 ms apart: it runs for about 4.5 s.
    server = run_server(env={"CHATKIT_JS_URL": stub_cdn, "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "300"})
    page = open_component(browser, server, page_user)
    console = ConsoleErrors(page)

    stop_url = f"{server.url}/api/chatkit/threads/{tea.id}/stop"
    with page.expect_response(stop_url) as stop:
        page.evaluate(
            STREAM_THEN_ABORT, {"body": turn(tea, "what can you do?"), "unloading": False}
        )
    assert stop.value.json() == {"stopped": True}
    answer = page.evaluate(STORED_ANSWER, tea.id)
    assert answer and HELP_TEXT.startswith(answer) and len(answer) < len(HELP_TEXT)
    assert console.errors == []


def test_a_reload_aborting_chatkits_stream_lets_the_turn_finish(
    run_server: Callable[..., ServerProcess],
    page_user: User,
    tea: Thread,
    stub_cdn: str,
    browser: Browser,
) -> None:
    server = run_server(env={"CHATKIT_JS_URL": stub_cdn, "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "300"})
    page = open_component(browser, server, page_user)
    stops: list[str] = []
    page.on(
        "request", lambda request: stops.append(request.url) if "/stop" in request.url else None
    )

    page.evaluate(STREAM_THEN_ABORT, {"body": turn(tea, "what can you do?"), "unloading": True})
    # Not a Stop: the turn runs on and is stored whole, to be found after the reload.
    answer = ""
    for _ in range(60):  # polled, at most 30 s
        answer = page.evaluate(STORED_ANSWER, tea.id)
        if answer == HELP_TEXT:
            break
        page.wait_for_timeout(500)
    assert answer == HELP_TEXT
    assert stops == []
