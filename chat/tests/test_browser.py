"""The built-in page in a real browser: Debian's Chromium (driven by Playwright's
Python package) against a real daphne serving the test database."""

from __future__ import annotations

import datetime
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from playwright.sync_api import Browser, Page, expect, sync_playwright

from accounts.models import User
from accounts.tests.factories import UserFactory
from config.tests.servers import BASE_DIR, ServerProcess, free_port
from todos.models import Priority
from todos.tests.factories import TodoFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Generous for a loaded 2-core CI machine; a passing wait returns as soon as it holds.
expect.set_options(timeout=15_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-for-browser-tests-1"
FALLBACK_NOTICE = (
    "ChatKit couldn't load from OpenAI's CDN, so you're using the built-in chat client."
)
ARTIFACTS = BASE_DIR / "test-artifacts"

# Stands in for OpenAI's CDN script: defines <openai-chatkit> and records the
# options the page gives it, so the test can call the page's own `api.fetch`.
STUB_CHATKIT_JS = b"""
window.__chatkitStub = { options: null, calls: 0 };
class StubChatKit extends HTMLElement {
  setOptions(options) {
    window.__chatkitStub.options = options;
    window.__chatkitStub.calls += 1;
    this.textContent = "stub ChatKit";
  }
}
customElements.define("openai-chatkit", StubChatKit);
"""


@pytest.fixture
def browser(run_server) -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop in this thread, where Django's ORM
    # refuses to run: tests ask for their database rows before this fixture.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh first.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page_user(transactional_db) -> User:
    user = UserFactory(name="Ada Lovelace")
    # The server process runs the real settings: hash as they do, not with the
    # tests' fast MD5 hasher.
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    return user


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


@pytest.fixture
def stub_cdn() -> Iterator[str]:
    """A local HTTP server answering the stub ChatKit script; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript")
            self.send_header("Content-Length", str(len(STUB_CHATKIT_JS)))
            self.end_headers()
            self.wfile.write(STUB_CHATKIT_JS)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/deployments/chatkit/chatkit.js"
    server.shutdown()
    server.server_close()


def sign_in(page: Page, server: ServerProcess, user: User) -> None:
    page.goto(f"{server.url}/")
    expect(page).to_have_url(f"{server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.get_by_test_id("account-name")).to_have_text("Ada Lovelace")


def todo_item(page: Page, title: str):
    return page.get_by_test_id("todo-list").locator("li.todo", has_text=title)


def mark_loaded(page: Page) -> None:
    # A marker that a reload would wipe: proves updates arrive without one.
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true")


def test_fallback_chat_adds_a_todo_live_in_two_tabs(
    run_server: Callable[..., ServerProcess],
    page_user: User,
    earlier_todos: list[str],
    browser: Browser,
) -> None:
    closed_port = free_port()  # nothing listens there: the "CDN" is unreachable
    server = run_server(
        env={
            "CHATKIT_JS_URL": f"http://127.0.0.1:{closed_port}/deployments/chatkit/chatkit.js",
            # Chunks a little apart, so the reply visibly streams in.
            "CHATKIT_OFFLINE_TOKEN_DELAY_MS": "60",
        }
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, server, page_user)

    notice = page.locator("#chat-notice")
    expect(notice).to_be_visible()
    expect(notice).to_have_text(FALLBACK_NOTICE)
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

    # Record every text the assistant's bubble shows, to see it grow while streaming.
    page.evaluate(
        """() => {
          window.__assistantTexts = [];
          const log = document.querySelector('[data-testid="chat-log"]');
          new MutationObserver(() => {
            const bubble = log.querySelector('.fc-assistant');
            if (bubble) window.__assistantTexts.push(bubble.textContent);
          }).observe(log, { childList: true, subtree: true, characterData: true });
        }"""
    )
    composer = page.get_by_label("Message the assistant")
    composer.fill("add buy milk")
    composer.press("Enter")

    reply = page.locator(".fc-assistant").last
    expect(reply).to_contain_text('Added "buy milk"')
    expect(todo_item(page, "buy milk")).to_be_visible()
    expect(todo_item(second, "buy milk")).to_be_visible()
    expect(page.locator(".fc-user")).to_have_text(["add buy milk"])
    expect(page.locator(".fc-thread.active")).to_have_count(1)

    final = reply.text_content()
    partial = [text for text in page.evaluate("window.__assistantTexts") if text != final]
    assert any(text and final.startswith(text) for text in partial), (
        "the reply should be rendered chunk by chunk as it streams"
    )

    # Tick it in the first tab: both tabs show it done.
    todo_item(page, "buy milk").get_by_role("checkbox").check()
    expect(todo_item(page, "buy milk")).to_have_class("todo done")
    expect(todo_item(second, "buy milk")).to_have_class("todo done")
    expect(todo_item(second, "buy milk").get_by_role("checkbox")).to_be_checked()
    stored = page.request.get(f"{server.url}/api/todos/").json()["results"]
    assert [(todo["title"], todo["completed"]) for todo in stored] == [
        ("buy milk", True),
        (earlier_todos[1], False),
        (earlier_todos[0], False),
    ]
    for tab in (page, second):
        assert_not_reloaded(tab)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page.png"))
    docs = BASE_DIR / "docs"
    docs.mkdir(exist_ok=True)
    shutil.copyfile(ARTIFACTS / "page.png", docs / "screenshot.png")
    context.close()


def test_chatkit_component_gets_our_server_domain_key_and_bearer_fetch(
    run_server: Callable[..., ServerProcess], page_user: User, stub_cdn: str, browser: Browser
) -> None:
    server = run_server(env={"CHATKIT_JS_URL": stub_cdn, "CHATKIT_DOMAIN_KEY": "domain_pk_test"})
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, page_user)

    expect(page.locator("openai-chatkit")).to_have_text("stub ChatKit")
    expect(page.locator("#chat-notice")).to_be_hidden()
    options = page.evaluate(
        """() => {
          const { api } = window.__chatkitStub.options;
          return { url: api.url, domainKey: api.domainKey, fetch: typeof api.fetch,
                   calls: window.__chatkitStub.calls };
        }"""
    )
    assert options == {
        "url": "/chatkit",
        "domainKey": "domain_pk_test",
        "fetch": "function",
        "calls": 1,
    }

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
    assert answer["body"]["data"] == []  # the user's (empty) thread list, as JSON

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


def test_fallback_chat_keeps_threads_and_explains_refusals(
    run_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = run_server(
        env={
            "CHATKIT_JS_URL": f"http://127.0.0.1:{free_port()}/chatkit.js",
            "CHATKIT_RATE_LIMIT": "1/minute",
        }
    )
    page = browser.new_page()
    sign_in(page, server, page_user)
    composer = page.get_by_label("Message the assistant")

    composer.fill("add call the bank")
    composer.press("Enter")
    expect(page.locator(".fc-assistant")).to_contain_text('Added "call the bank"')
    expect(todo_item(page, "call the bank")).to_be_visible()

    # Over the rate limit: a friendly line with the wait, and the text kept to retry.
    composer.fill("list")
    composer.press("Enter")
    expect(page.locator(".fc-error")).to_contain_text("You're going a bit fast. Try again in")
    expect(composer).to_have_value("list")
    expect(page.locator(".fc-user")).to_have_text(["add call the bank"])

    # A new chat starts empty; the earlier thread is listed and reopens with its items.
    page.get_by_role("button", name="+ New chat").click()
    expect(page.locator(".fc-msg")).to_have_count(0)
    page.locator(".fc-thread", has_text="add call the bank").click()
    expect(page.locator(".fc-user")).to_have_text(["add call the bank"])
    expect(page.locator(".fc-assistant")).to_contain_text('Added "call the bank"')
    page.close()
