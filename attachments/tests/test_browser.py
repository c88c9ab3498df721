"""Attaching an image in the built-in client, in a real Chromium against daphne."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from accounts.models import User
from attachments.tests.conftest import png_bytes, stored_files
from chat.tests.browser import (  # fixtures browser, page_user: chat.tests.browser
    sign_in,
    wait_answered,
)
from config.tests.servers import ServerProcess, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_attach_an_image_and_a_csv_in_the_built_in_client(
    run_server: Callable[..., ServerProcess],
    page_user: User,
    browser: Browser,
    tmp_path,
) -> None:
    stored = tmp_path / "stored"
    server = run_server(
        env={
            "CHATKIT_JS_URL": f"http://127.0.0.1:{free_port()}/chatkit.js",  # unreachable
            "ATTACHMENTS_DIR": str(stored),
        }
    )
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_in(page, server, page_user)
    expect(page.get_by_test_id("fallback-chat")).to_be_visible()

    image = png_bytes("blue", (40, 30))
    page.locator(".fc-composer input[type=file]").set_input_files(
        [{"name": "shopping.png", "mimeType": "image/png", "buffer": image}]
    )
    tray = page.get_by_role("list", name="Files to send")
    expect(tray.locator(".fc-tray-item[data-state=ready]")).to_have_count(1)
    expect(tray).to_contain_text("shopping.png")
    composer = page.get_by_label("Message the assistant")
    composer.fill("what is on this?")
    composer.press("Enter")

    expect(page.locator(".fc-assistant").last).to_contain_text("“shopping.png”")
    expect(tray).to_be_hidden()
    assert [path.read_bytes() for path in stored_files(stored)] == [image]

    # A CSV dropped on the composer, then "add these".
    csv = b"water plants\nbuy stamps\n"
    drop = page.evaluate_handle(
        """(text) => {
          const data = new DataTransfer();
          data.items.add(new File([text], "chores.csv", { type: "text/csv" }));
          return data;
        }""",
        csv.decode(),
    )
    page.locator(".fc-composer").dispatch_event("drop", {"dataTransfer": drop})
    expect(tray.locator(".fc-tray-item[data-state=ready]")).to_have_count(1)
    wait_answered(page)  # Enter while the first answer still streams is ignored by design
    composer.fill("add these")
    composer.press("Enter")
    expect(page.locator(".fc-assistant").last).to_contain_text("Added 2 todo(s)")
    expect(page.get_by_test_id("todo-list")).to_contain_text("buy stamps")

    # After a reload the image comes back from its signed preview link.
    page.reload()
    page.locator(".fc-thread").first.click()
    thumbnail = page.get_by_role("img", name="shopping.png")
    expect(thumbnail).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('img[alt=\"shopping.png\"]').naturalWidth === 40"
    )
