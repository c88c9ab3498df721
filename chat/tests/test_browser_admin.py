"""The admin in a real browser, as staff read a conversation and its files: every table
fits a 1280 px screen (the thread items list showed only its id and thread columns)."""

from __future__ import annotations

import datetime
import json

import pytest
from chatkit.types import HiddenContextItem
from django.contrib.admin.utils import quote
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from attachments import services
from attachments.models import Attachment as ChatAttachment
from chat.models import Thread, ThreadItem
from chat.rows import item_row_fields
from chat.tests.browser import DESKTOP, PASSWORD, conversation, make_page_user, orm
from config.tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG_WORD = "supercalifragilistic" * 12  # 240 characters, no place to break


@pytest.fixture
def staff(transactional_db) -> User:
    return make_page_user(name="Staff Member", is_staff=True, is_superuser=True)


@pytest.fixture
def busy_thread(page_user: User) -> Thread:
    """A thread whose every column has something long in it."""
    thread = conversation(
        page_user,
        (f"add {LONG_WORD}", f'Added "{LONG_WORD}" to your todos.'),
        ("list", "Here they are: " + " ".join(["buy milk"] * 60)),
        title=("A very long title " * 10).strip(),
    )
    note = HiddenContextItem(
        id="hc_long_note",
        thread_id=thread.id,
        created_at=timezone.now() + datetime.timedelta(seconds=5),
        content=json.dumps({"todo": {"title": LONG_WORD, "tags": [LONG_WORD] * 3}}),
    )
    ThreadItem.objects.create(thread=thread, **item_row_fields(thread.id, note))
    services.attachment_create(
        user=page_user, attachment_id="atc_long_name", name=f"{LONG_WORD[:110]}.png",
        size=20, mime_type="image/png", base_url="http://127.0.0.1/",
    )  # fmt: skip
    ChatAttachment.objects.filter(pk="atc_long_name").update(thread=thread)
    return thread


def admin_sign_in(page: Page, server: ServerProcess, user: User) -> None:
    page.goto(f"{server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}/admin/")


def overflow(page: Page) -> dict[str, int]:
    """What is wider than the place it is shown in, by how many pixels: the page itself,
    and any box that scrolls sideways (the admin puts its tables in such boxes, where
    the columns past the first ones are out of sight)."""
    return page.evaluate(
        """() => {
          const wide = {};
          const page = document.documentElement;
          if (page.scrollWidth > page.clientWidth) wide.page = page.scrollWidth - page.clientWidth;
          for (const box of document.querySelectorAll("#content *")) {
            if (box.scrollWidth > box.clientWidth + 1 && box.clientWidth > 0
                && getComputedStyle(box).overflowX !== "visible") {
              wide[box.tagName.toLowerCase() + (box.id ? "#" + box.id : "")
                   + (box.className ? "." + String(box.className).split(" ")[0] : "")]
                = box.scrollWidth - box.clientWidth;
            }
          }
          return wide;
        }"""
    )


def test_admin_tables_fit_a_1280px_screen(
    staff: User, busy_thread: Thread, run_server, browser: Browser
) -> None:
    server = run_server()
    item_pk = orm(lambda: ThreadItem.objects.get(item_id="hc_long_note").pk)
    page = browser.new_context(viewport=DESKTOP).new_page()
    admin_sign_in(page, server, staff)

    too_wide = {}
    for path in (
        "/admin/chat/thread/",
        f"/admin/chat/thread/{quote(busy_thread.pk)}/change/",  # "_26" would read as "&"
        "/admin/chat/threaditem/",
        f"/admin/chat/threaditem/{item_pk}/change/",
        "/admin/attachments/attachmentfile/",
        f"/admin/attachments/attachmentfile/{quote('atc_long_name')}/change/",
    ):
        page.goto(f"{server.url}{path}")
        expect(page.locator("#content")).to_be_visible()
        if wide := overflow(page):
            too_wide[path] = wide
    assert too_wide == {}, "these pages do not fit 1280 px"
