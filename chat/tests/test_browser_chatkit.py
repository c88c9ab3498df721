"""The built-in client shows what the official component would (issue 18): a
progress line while a tool runs, thumbs on answers (stored), the list widget's add
form, a question (structured input) as buttons, and the client tool get_local_date
answered by the browser itself; by keyboard."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from accounts.models import User
from chat.models import Feedback
from chat.tests.browser import (
    ConsoleErrors,
    composer,
    open_page,
    orm,
    say,
    sign_in,
    todo_item,
    wait_answered,
)
from config.tests.servers import ServerProcess
from todos.models import Todo
from todos.tests.factories import TodoFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_progress_thumbs_and_the_add_form_by_keyboard(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    # Paced answers: the progress line stays up while the answer streams.
    server = fallback_server(CHATKIT_OFFLINE_TOKEN_DELAY_MS="1500")
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)

    say(page, "add call mom")
    progress = page.get_by_test_id("chat-progress")
    expect(progress).to_have_text("Adding “call mom”…")
    answer = page.locator(".fc-answer").last
    expect(answer.locator(".fc-assistant")).to_contain_text('Added "call mom"')
    expect(progress).to_have_count(0)  # gone once the turn ends

    # Thumbs up by keyboard: stored for that answer, shown as pressed.
    good = answer.get_by_role("button", name="Good answer")
    good.focus()
    page.keyboard.press("Enter")
    expect(good).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_role("button", name="Bad answer")).to_have_attribute(
        "aria-pressed", "false"
    )
    feedback = orm(lambda: list(Feedback.objects.filter(user=page_user).values_list("kind")))
    assert feedback == [("positive",)]
    expect(answer.get_by_role("button", name="Copy answer")).to_be_visible()

    # The list widget's form: type a title and press Enter.
    say(page, "list")
    expect(page.locator(".fc-assistant").last).to_contain_text("Here are your open todos")
    # Its last chunk is shown before the turn has ended: a form sent meanwhile is ignored.
    wait_answered(page)
    widget = page.locator(".fc-widget").last
    title = widget.get_by_role("textbox", name="New todo title")
    title.focus()
    page.keyboard.type("water plants")
    page.keyboard.press("Enter")
    expect(widget.get_by_role("checkbox", name="water plants")).to_be_visible()
    expect(todo_item(page, "water plants")).to_be_visible()  # the panel hears of it too
    assert orm(lambda: Todo.objects.filter(owner=page_user, title="water plants").count()) == 1
    assert console.errors == []


def test_a_question_is_answered_with_its_buttons_by_keyboard(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    oat = orm(TodoFactory, owner=page_user, title="oat milk")
    soy = orm(TodoFactory, owner=page_user, title="soy milk")
    server = fallback_server()
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)

    say(page, "complete milk")

    choices = page.get_by_role("group", name=re.compile("More than one todo matches"))
    soy_button = choices.get_by_role("button", name=f"#{soy.id} soy milk")
    expect(soy_button).to_be_visible()
    expect(choices.get_by_role("button", name=f"#{oat.id} oat milk")).to_be_visible()
    expect(choices.get_by_role("button", name="Skip")).to_be_visible()
    # Focus goes to the first choice; Tab walks them, Enter picks one.
    expect(choices.get_by_role("button").first).to_be_focused()
    while not soy_button.evaluate("node => node === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page.locator(".fc-assistant").last).to_contain_text("Marked “soy milk” as done.")
    expect(todo_item(page, "soy milk")).to_have_attribute("data-completed", "true")
    expect(todo_item(page, "oat milk")).to_have_attribute("data-completed", "false")
    expect(choices).to_have_count(0)  # answered: no buttons left
    expect(composer(page)).to_be_focused()
    assert console.errors == []


def test_the_browser_answers_get_local_date_with_its_own_day(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)
    today = datetime.date.fromisoformat(page.evaluate("window.TodoChat.localDate().date"))

    say(page, "add pay rent due tomorrow")

    expect(page.locator(".fc-assistant").last).to_contain_text('Added "pay rent"')
    todo = orm(lambda: Todo.objects.get(owner=page_user, title="pay rent"))
    assert todo.due_date == today + datetime.timedelta(days=1)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert console.errors == []


def test_the_chatkit_component_gets_every_option_the_server_answers(
    run_server: Callable[..., ServerProcess], page_user: User, stub_cdn: str, browser: Browser
) -> None:
    """The web component's options (static/js/chatkit-options.js), their handlers
    called as ChatKit would call them, against the real server."""
    milk = orm(TodoFactory, owner=page_user, title="oat milk")
    orm(TodoFactory, owner=page_user, title="call mom")
    server = run_server(
        env={"CHATKIT_JS_URL": stub_cdn, "CHATKIT_MODELS": "gpt-a,gpt-b", "CHATKIT_MODEL": ""}
    )
    page = browser.new_context().new_page()
    sign_in(page, server, page_user)
    expect(page.locator("openai-chatkit")).to_have_text("stub ChatKit")

    options = page.evaluate(
        """() => {
          const o = window.__chatkitStub.options;
          return { uploadStrategy: o.api.uploadStrategy, actions: o.threadItemActions,
                   tools: o.composer.tools.map((t) => t.id),
                   models: o.composer.models.map((m) => [m.id, Boolean(m.default)]),
                   handlers: ["onTagSearch", "onClick", "onRequestPreview"].filter(
                     (name) => typeof o.entities[name] === "function"),
                   clientTool: typeof o.onClientTool };
        }"""
    )
    assert options == {
        "uploadStrategy": {"type": "two_phase"},
        "actions": {"feedback": True, "retry": True},
        "tools": ["add_todo", "search_todos"],
        "models": [["gpt-a", True], ["gpt-b", False]],
        "handlers": ["onTagSearch", "onClick", "onRequestPreview"],
        "clientTool": "function",
    }

    answer = page.evaluate(
        "window.__chatkitStub.options.onClientTool({ name: 'get_local_date', params: {} })"
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", answer["date"]) and answer["timezone"]

    found = page.evaluate("window.__chatkitStub.options.entities.onTagSearch('milk')")
    assert [(e["id"], e["title"]) for e in found] == [(str(milk.id), "oat milk")]
    preview = page.evaluate(
        "(entity) => window.__chatkitStub.options.entities.onRequestPreview(entity)", found[0]
    )
    assert preview["preview"]["type"] == "Basic" and "oat milk" in str(preview)

    page.evaluate("(entity) => window.__chatkitStub.options.entities.onClick(entity)", found[0])
    expect(todo_item(page, "oat milk")).to_be_focused()
