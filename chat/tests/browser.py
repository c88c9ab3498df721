"""Browser test kit (pytest plugin): Debian's Chromium driven by Playwright's Python
package against a real daphne serving the test database, plus page helpers.

Without /usr/bin/chromium, Playwright's own browser is used when it is installed
(`playwright install chromium`); with neither, browser tests skip with one line,
except on CI (the `CI` variable set): there a run without a browser fails, so it
cannot go green with no browser test run.
"""

from __future__ import annotations

import datetime
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from chatkit.actions import ActionConfig
from chatkit.types import WidgetItem
from chatkit.widgets import Badge, Button, Caption, Checkbox, ListView, ListViewItem, Spacer
from django.contrib.auth.hashers import make_password
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from accounts.models import User
from accounts.tests.factories import UserFactory
from chat.models import Thread, ThreadItem
from chat.rows import item_row_fields
from chat.tests.factories import ThreadFactory, assistant_message, user_message
from config.tests.servers import BASE_DIR, ServerProcess, free_port
from todos.models import Todo

T = TypeVar("T")

# Generous for a loaded 2-core CI machine; a passing wait returns as soon as it holds.
expect.set_options(timeout=15_000)

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-for-browser-tests-1"
FALLBACK_NOTICE = "The chat is in simple mode right now: it works the same, it just looks plainer."
ARTIFACTS = BASE_DIR / "test-artifacts"
DOCS = BASE_DIR / "docs"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def on_ci() -> bool:
    """True when the `CI` variable is set (GitHub Actions, GitLab, .ci/run): browser
    tests must run there, so a missing browser is a failure instead of a skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _launch(playwright: Any) -> Browser:
    if CHROMIUM.exists():
        return playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    try:  # Playwright's own build (`playwright install chromium`), e.g. on a Mac
        return playwright.chromium.launch(args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:
        reason = f"no Chromium ({CHROMIUM} missing, and no Playwright build: run `make test-deps`)"
        if on_ci():
            raise RuntimeError(f"CI is set and {reason}") from exc
        pytest.skip(f"browser tests skipped: {reason}")


def missing_browser() -> str | None:
    """Why no Chromium can run here, or None when one can."""
    if CHROMIUM.exists():
        return None
    with sync_playwright() as playwright:
        if Path(playwright.chromium.executable_path).exists():
            return None
    return f"no Chromium ({CHROMIUM} missing, no Playwright build): run `make test-deps`"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without any Chromium, leave the browser tests out and say so once (on CI, stop)."""
    wanted = [item for item in items if item.get_closest_marker("browser")]
    reason = missing_browser() if wanted else None
    if reason is None:
        return
    if on_ci():
        raise pytest.UsageError(f"CI is set and {len(wanted)} browser tests cannot run: {reason}")
    items[:] = [item for item in items if not item.get_closest_marker("browser")]
    config.hook.pytest_deselected(items=wanted)
    config.stash[_SKIPPED] = f"{len(wanted)} browser tests skipped: {reason}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _SKIPPED in config.stash:
        terminalreporter.write_line(config.stash[_SKIPPED], yellow=True, bold=True)


_SKIPPED = pytest.StashKey[str]()


@pytest.fixture
def browser(run_server) -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop in this thread, where Django's ORM
    # refuses to run: tests ask for their database rows before this fixture.
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page_user(transactional_db) -> User:
    return make_page_user(name="Ada Lovelace")


def make_page_user(**fields: Any) -> User:
    user = UserFactory(**fields)
    # The server process runs the real settings: hash as they do, not with the
    # tests' fast MD5 hasher.
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def fallback_server(run_server: Callable[..., ServerProcess]) -> Callable[..., ServerProcess]:
    """run_server with an unreachable ChatKit CDN: the page uses the built-in client."""

    def start(**env: str) -> ServerProcess:
        closed = f"http://127.0.0.1:{free_port()}/deployments/chatkit/chatkit.js"
        return run_server(env={"CHATKIT_JS_URL": closed, **env})

    return start


class ConsoleErrors:
    """Console errors and uncaught exceptions of a page (the CDN miss aside)."""

    def __init__(self, page: Page, *, http_errors_expected: bool = False) -> None:
        self.errors: list[str] = []
        self.http_errors_expected = http_errors_expected
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # The unreachable CDN script, and requests the test makes fail on purpose.
        if "chatkit.js" in url or "chatkit.js" in message.text:
            return
        if "Failed to load resource" in message.text and self.http_errors_expected:
            return
        self.errors.append(message.text)


def sign_in(page: Page, server: ServerProcess, user: User) -> None:
    page.goto(f"{server.url}/")
    expect(page).to_have_url(f"{server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.get_by_test_id("account-name")).to_have_text(user.display_name)


def open_page(
    browser: Browser, server: ServerProcess, user: User, *, viewport: dict | None = None
) -> Page:
    """A new context signed in as `user`, on the page with the built-in chat ready."""
    context = browser.new_context(viewport=viewport or DESKTOP)
    page = context.new_page()
    sign_in(page, server, user)
    expect(page.get_by_test_id("fallback-chat")).to_be_attached()  # hidden on a phone's todo view
    return page


def wait_live(page: Page) -> None:
    """Until the page's socket is open (thread and todo changes reach it)."""
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def todo_item(page: Page, title: str):
    return page.get_by_test_id("todo-list").locator("li.todo", has_text=title)


def composer(page: Page):
    return page.get_by_role("textbox", name=re.compile("message", re.I))


def wait_answered(page: Page) -> None:
    """Until the built-in client has no turn going: none streaming (its answer may still
    grow) and none being looked for (a thread just opened asks GET …/events whether an
    answer still runs there). Meanwhile Enter, Retry and widget actions are ignored by
    design. Right after say() this waits for that turn (send marks the composer busy at
    once); right after a thread shows its items, for the check that follows at once."""
    expect(page.locator(".fc-composer.busy")).to_have_count(0)
    # The check shows nothing in the page (no busy composer for a 204): its request is
    # the client's `controller` while it is out.
    page.wait_for_function(
        "() => !(window.TodoChat.chat && window.TodoChat.chat.controller)", polling=50
    )


def say(page: Page, text: str) -> None:
    """Type and send like a person who waits for the previous answer: Enter while a
    turn is still streaming is ignored by design (the text stays in the box)."""
    wait_answered(page)
    box = composer(page)
    box.fill(text)
    box.press("Enter")


def stored_thread_id(page: Page) -> str | None:
    return page.evaluate("window.TodoChat.memory.threadId")


def thread_button(page: Page, title: str):
    """The button opening the thread titled exactly `title`."""
    exact = page.locator(".fc-thread-title", has_text=re.compile(f"^{re.escape(title)}$"))
    return page.locator(".fc-thread", has=exact)


def mark_loaded(page: Page) -> None:
    # A marker that a reload would wipe: proves updates arrive without one.
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true")


def save_screenshot(page: Page, name: str) -> None:
    """Into test-artifacts/; with UPDATE_SCREENSHOTS=1 also into docs/ (the README's
    pictures), so an ordinary run never changes a tracked file."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        (DOCS / name).write_bytes((ARTIFACTS / name).read_bytes())


# --- data the page shows ----------------------------------------------------------


def orm(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run database code while Playwright's loop owns this thread (on another one)."""

    def call() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def conversation(user: User, *pairs: tuple[str, str], title: str | None = None) -> Thread:
    """A stored thread of (user text, assistant text) turns, a minute apart."""
    start = timezone.now() - datetime.timedelta(minutes=len(pairs) + 1)
    thread = ThreadFactory(owner=user, title=title or pairs[0][0], created_at=start)
    for index, (said, answered) in enumerate(pairs):
        at = start + datetime.timedelta(minutes=index)
        for item in (
            user_message(thread.id, said, created_at=at),
            assistant_message(thread.id, answered, created_at=at + datetime.timedelta(seconds=1)),
        ):
            ThreadItem.objects.create(thread=thread, **item_row_fields(thread.id, item))
    return thread


def todo_list_widget(todos: list[Todo]) -> ListView:
    """A todo list widget shaped like the agent's (chat/widgets.py of the interactive issue)."""
    rows = []
    for todo in todos:
        payload = {"id": todo.id}
        toggle = "todos.reopen" if todo.completed else "todos.complete"
        rows.append(
            ListViewItem(
                key=f"todo-{todo.id}",
                children=[
                    Checkbox(
                        name=f"done-{todo.id}",
                        label=todo.title,
                        defaultChecked=todo.completed,
                        onChangeAction=ActionConfig(type=toggle, payload=payload),
                    ),
                    Spacer(),
                    Caption(value=f"#{todo.id}"),
                    Badge(label=todo.priority),
                    Button(
                        label="Delete",
                        onClickAction=ActionConfig(type="todos.delete", payload=payload),
                    ),
                ],
            )
        )
    return ListView(status={"text": "Your todos"}, children=rows)


def save_widget(thread: Thread, widget: Any, *, copy_text: str) -> WidgetItem:
    """A widget item stored in `thread`, as the agent's tool would leave it."""
    item = WidgetItem(
        id=f"wig_{thread.pk[-8:]}_{ThreadItem.objects.count()}",
        thread_id=thread.id,
        created_at=timezone.now(),
        widget=widget,
        copy_text=copy_text,
    )
    ThreadItem.objects.create(thread=thread, **item_row_fields(thread.id, item))
    return item


# Stands in for OpenAI's CDN script: defines <openai-chatkit> and records the
# options and listeners the page gives it, the thread it shows and the page's calls
# of its methods. `open(id)` plays a user picking a thread in ChatKit's history.
STUB_CHATKIT_JS = b"""
window.__chatkitStub = {
  options: null, calls: 0, listeners: [], fetchUpdates: [], setThreadId: [],
};
class StubChatKit extends HTMLElement {
  setOptions(options) {
    window.__chatkitStub.options = options;
    window.__chatkitStub.calls += 1;
    this.threadId = options.initialThread || null;
    this.textContent = "stub ChatKit";
  }
  addEventListener(type, listener, options) {
    window.__chatkitStub.listeners.push(type);
    super.addEventListener(type, listener, options);
  }
  fetchUpdates() {
    window.__chatkitStub.fetchUpdates.push({ at: performance.now(), thread: this.threadId });
    return Promise.resolve();
  }
  setThreadId(threadId) {
    window.__chatkitStub.setThreadId.push(threadId);
    this.open(threadId);
    return Promise.resolve();
  }
  open(threadId) {
    this.threadId = threadId;
    this.dispatchEvent(new CustomEvent("chatkit.thread.change", { detail: { threadId } }));
  }
}
customElements.define("openai-chatkit", StubChatKit);
"""


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
