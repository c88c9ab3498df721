"""Content-Security-Policy on the built-in page (django-csp): our scripts and
ChatKit's CDN origin only; nothing inline runs as script; no framing."""

from __future__ import annotations

import re
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_the_page_has_a_policy_that_allows_chatkit_and_no_inline_script(user):
    browser = Client()
    browser.force_login(user)
    response = browser.get("/")
    assert response.status_code == HTTPStatus.OK
    policy = directives(response["Content-Security-Policy"])

    cdn = urlsplit(settings.CHATKIT_JS_URL)
    cdn_origin = f"{cdn.scheme}://{cdn.netloc}"
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'", cdn_origin]
    assert cdn_origin in policy["frame-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    # The page's own scripts are files, and its data is JSON, not script.
    tags = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert tags
    assert all("src=" in tag or 'type="application/json"' in tag for tag in tags), tags


def test_the_login_page_and_the_api_carry_it_too(client):
    assert "script-src" in client.get("/accounts/login/")["Content-Security-Policy"]
    assert "Content-Security-Policy" in client.get("/healthz")
