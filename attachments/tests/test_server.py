"""Attachments through a real server process (daphne, the app's ASGI stack): an
upload bigger than other bodies may be, and the preview seen by a plain GET."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import httpx
import pytest

from accounts.models import User
from attachments.tests.conftest import stored_files
from config.tests.servers import ServerProcess, post_chatkit

pytestmark = pytest.mark.slow

# Over CHATKIT_MAX_BODY_BYTES (1 MiB), under CHATKIT_ATTACHMENT_MAX_BYTES (10 MiB).
BIG_PNG = b"\x89PNG\r\n\x1a\n" + bytes(2_000_000)


def test_a_two_megabyte_image_goes_through_the_real_stack(
    run_server: Callable[..., ServerProcess], user: User, token_for, tmp_path
) -> None:
    stored = tmp_path / "stored"
    server = run_server(env={"ATTACHMENTS_DIR": str(stored)})
    create = {
        "type": "attachments.create",
        "params": {"name": "big.png", "size": len(BIG_PNG), "mime_type": "image/png"},
    }
    response = post_chatkit(server, token_for(user), create)
    assert response.status_code == HTTPStatus.OK, response.text
    attachment = response.json()
    assert attachment["upload_descriptor"]["url"].startswith(f"{server.url}/api/attachments/")

    files = {"file": ("big.png", BIG_PNG, "image/png")}
    uploaded = httpx.post(attachment["upload_descriptor"]["url"], files=files, timeout=30)
    assert uploaded.status_code == HTTPStatus.OK, uploaded.text
    assert [path.stat().st_size for path in stored_files(stored)] == [len(BIG_PNG)]

    preview = httpx.get(attachment["preview_url"], timeout=30)
    assert preview.status_code == HTTPStatus.OK
    assert preview.content == BIG_PNG
    assert preview.headers["x-content-type-options"] == "nosniff"
