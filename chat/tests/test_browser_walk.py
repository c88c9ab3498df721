"""What a new user sees on the built-in page, checked the way a person would: words
every font can draw under an answer, and a widget's add form whose fields are not
squeezed until their text is cut off (at desktop and phone widths)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from accounts.models import User
from chat.tests.browser import DESKTOP, PHONE, ConsoleErrors, open_page, say
from config.tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Printable ASCII: in every font, so no reader sees an empty box where a label was.
DRAWABLE = re.compile(r"^[ -~]+$")


def test_answer_actions_say_what_they_do_in_words_every_font_draws(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)
    say(page, "add call mom")
    actions = page.locator(".fc-answer").last.get_by_role("group", name="Answer actions")
    expect(actions.get_by_role("button")).to_have_count(3)
    for name in ("Good answer", "Bad answer", "Copy answer"):
        button = actions.get_by_role("button", name=name)
        shown = button.inner_text().strip()
        # Emoji and rare symbols (👍 👎 ⧉) need fonts many machines lack (Debian's
        # Chromium with DejaVu draws them as boxes).
        assert DRAWABLE.match(shown), f"{name!r} shows {shown!r}"
        assert shown.lower() in name.lower()  # the visible words are part of its name
    assert console.errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_list_widgets_add_form_shows_its_fields_whole(
    fallback_server: Callable[..., ServerProcess],
    page_user: User,
    browser: Browser,
    viewport: dict,
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user, viewport=viewport)
    if viewport is PHONE:
        page.get_by_role("button", name="Chat", exact=True).click()
    say(page, "list")
    form = page.locator(".fc-widget").last.locator("form")
    expect(form.get_by_role("combobox", name=re.compile("Priority"))).to_be_visible()
    # Each date or choice field is at least as wide as it would be left alone: a
    # narrower one cuts its text ("Medium priori").
    squeezed = form.evaluate(
        """form => [...form.querySelectorAll("select, input[type=date]")].flatMap(field => {
            const width = field.getBoundingClientRect().width;
            const style = field.getAttribute("style");
            field.style.flex = "none";
            field.style.width = "max-content";
            const natural = field.getBoundingClientRect().width;
            if (style === null) field.removeAttribute("style");
            else field.setAttribute("style", style);
            return width + 0.5 < natural ? [`${field.name}: ${width} < ${natural}`] : [];
        })"""
    )
    assert squeezed == []
    overflow = form.evaluate("form => form.scrollWidth - form.clientWidth")
    assert overflow <= 0


def test_an_answer_still_being_written_cannot_be_rated_or_copied_yet(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    # Paced tokens: the long help answer takes seconds to arrive.
    server = fallback_server(CHATKIT_OFFLINE_TOKEN_DELAY_MS="400")
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)
    say(page, "hello there")
    answer = page.locator(".fc-answer").last
    expect(answer).to_have_attribute("aria-busy", "true")
    expect(answer.locator(".fc-assistant")).to_contain_text("add")  # some of it is shown
    # Rating or copying half an answer would store or copy the wrong thing.
    expect(answer.get_by_role("button", name="Good answer")).to_be_hidden()
    expect(answer.get_by_role("button", name="Copy answer")).to_be_hidden()
    assert answer.get_attribute("aria-busy") == "true"  # still writing when checked
    expect(answer).not_to_have_attribute("aria-busy", "true", timeout=60_000)
    expect(answer.get_by_role("button", name="Good answer")).to_be_visible()
    expect(answer.get_by_role("button", name="Copy answer")).to_be_visible()
    assert console.errors == []


def test_the_simple_mode_notes_dismiss_button_is_big_enough_to_tap(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user, viewport=PHONE)
    page.get_by_role("button", name="Chat", exact=True).click()
    dismiss = page.get_by_role("button", name="Got it: hide this note")
    expect(dismiss).to_be_visible()
    box = dismiss.bounding_box()
    assert box is not None
    # WCAG 2.2's minimum target (2.5.8): 24 by 24 CSS pixels.
    assert box["height"] >= 24 and box["width"] >= 24, box


def test_a_chat_started_in_one_tab_shows_in_the_others_list(
    fallback_server: Callable[..., ServerProcess], page_user: User, browser: Browser
) -> None:
    server = fallback_server()
    page = open_page(browser, server, page_user)
    console = ConsoleErrors(page)
    other = page.context.new_page()
    other_console = ConsoleErrors(other)
    other.goto(f"{server.url}/")
    expect(other.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(other.locator(".fc-thread")).to_have_count(0)

    say(page, "add call mom")
    expect(page.locator(".fc-assistant").last).to_contain_text('Added "call mom"')
    # The title is written after the answer ("New chat" until then): wait for the final one.
    expect(page.locator(".fc-thread-title")).to_have_text(["call mom"])
    # The other tab hears thread.changed on its socket and lists the new chat, no reload.
    expect(other.locator(".fc-thread-title")).to_have_text(["call mom"])
    assert console.errors == [] and other_console.errors == []
