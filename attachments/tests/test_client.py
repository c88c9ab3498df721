"""What the built-in page tells its clients about attachments."""

from __future__ import annotations

import json

import pytest

from attachments.client import client_config
from attachments.files import ALLOWED_TYPES

pytestmark = pytest.mark.django_db


def test_the_page_gives_chatkit_the_servers_limits(client, user, settings, limits):
    limits(MAX_BYTES=1234)
    client.force_login(user)
    html = client.get("/").content.decode()
    config = json.loads(html.split('id="page-config" type="application/json">')[1].split("<")[0])
    attachments = config["attachments"]
    assert attachments["maxBytes"] == 1234
    assert set(attachments["accept"]) == ALLOWED_TYPES
    assert attachments["dictation"] is False
    assert "js/attachments.js" in html and "css/attachments.css" in html


def test_dictation_is_offered_only_with_a_key(settings):
    settings.CHATKIT = {**settings.CHATKIT, "OPENAI_API_KEY": "sk-test"}
    assert client_config()["dictation"] is True
