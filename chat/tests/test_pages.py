"""The built-in page, its sign-in and sign-out, and the session + CSRF calls it makes."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from attachments.client import client_config as attachments_client_config
from chat.pages import HINTS, SCRIPTS

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-page-tests-1"


@pytest.fixture
def page_user() -> User:
    return UserFactory(name="Grace Hopper", password=PASSWORD)


@pytest.fixture
def signed_in(page_user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(page_user)
    return client


def page_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="page-config" type="application/json">') + len(
        '<script id="page-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_page_requires_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/"


def test_the_login_page_matches_the_app(client: Client) -> None:
    response = client.get("/accounts/login/?next=/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "css/app.css" in html
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'name="next" value="/"' in html


def test_signing_in_lands_on_the_page(client: Client, page_user: User) -> None:
    response = client.post(
        "/accounts/login/", {"username": page_user.username, "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"
    assert client.get("/").status_code == HTTPStatus.OK


def test_a_wrong_password_is_shown_on_the_login_page(client: Client, page_user: User) -> None:
    response = client.post(
        "/accounts/login/", {"username": page_user.username, "password": "wrong"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "didn't match" in response.content.decode()
    assert client.get("/").status_code == HTTPStatus.FOUND


def test_the_page_is_configured_for_our_chatkit_server(signed_in: Client, settings) -> None:
    settings.CHATKIT = {
        **settings.CHATKIT,
        "DOMAIN_KEY": "domain_pk_from_settings",
        "MODEL": "gpt-a",
        "MODELS": ["gpt-a", "gpt-b"],
    }
    settings.CHATKIT_JS_URL = "http://127.0.0.1:9/chatkit.js"

    response = signed_in.get("/")

    assert response.status_code == HTTPStatus.OK
    assert page_config(response) == {
        "userId": response.wsgi_request.user.pk,
        "chatkitUrl": "/chatkit",
        "sessionUrl": "/api/chatkit/session",
        "todosUrl": "/api/todos/",
        "entitiesUrl": "/api/chatkit/entities",
        # CHATKIT_MODELS as ChatKit's composer.models (the picker shows for 2+).
        "models": [
            {"id": "gpt-a", "label": "gpt-a", "default": True},
            {"id": "gpt-b", "label": "gpt-b", "default": False},
        ],
        "todoStatsUrl": "/api/todos/stats/",
        "websocketPath": "/ws/todos/",
        "loginUrl": "/accounts/login/",
        "domainKey": "domain_pk_from_settings",
        "chatkitScriptUrl": "http://127.0.0.1:9/chatkit.js",
        "hints": HINTS,
        "attachments": attachments_client_config(),
    }
    html = response.content.decode()
    for script in SCRIPTS:
        assert f"/static/{script}" in html
        assert (settings.BASE_DIR / "static" / script).exists()
    # No inline scripts or handlers: a strict `script-src 'self'` policy works.
    assert "onclick=" not in html and "onload=" not in html
    assert html.count("<script") == len(SCRIPTS) + 1  # + the JSON config (never run)
    assert "Grace Hopper" in html
    # The scripts read the CSRF token from its cookie for their writes.
    assert "csrftoken" in response.cookies


def test_the_page_config_is_escaped(signed_in: Client, settings) -> None:
    settings.CHATKIT = {**settings.CHATKIT, "DOMAIN_KEY": "</script><script>alert(1)</script>"}
    html = signed_in.get("/").content.decode()
    assert "<script>alert(1)" not in html


def test_the_default_chatkit_script_is_openais_cdn() -> None:
    from django.conf import settings

    assert (
        settings.CHATKIT_JS_URL == "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
    )


def test_sign_out_is_a_post_form_that_ends_the_session(signed_in: Client) -> None:
    html = signed_in.get("/").content.decode()
    assert 'action="/accounts/logout/"' in html
    token = signed_in.cookies["csrftoken"].value

    response = signed_in.post("/accounts/logout/", {"csrfmiddlewaretoken": token})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/"
    assert signed_in.get("/").status_code == HTTPStatus.FOUND


def test_page_session_gets_a_client_secret_with_its_csrf_token(signed_in: Client) -> None:
    signed_in.get("/")
    token = signed_in.cookies["csrftoken"].value

    refused = signed_in.post("/api/chatkit/session", content_type="application/json")
    response = signed_in.post(
        "/api/chatkit/session", content_type="application/json", headers={"X-CSRFToken": token}
    )

    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["code"] == "auth_error"
    assert response.status_code == HTTPStatus.OK
    assert response.json()["client_secret"].startswith("cks_")


def test_page_session_edits_todos_with_its_csrf_token(signed_in: Client) -> None:
    signed_in.get("/")
    csrf = {"X-CSRFToken": signed_in.cookies["csrftoken"].value}

    refused = signed_in.post("/api/todos/", {"title": "No token"}, content_type="application/json")
    created = signed_in.post(
        "/api/todos/", {"title": "Buy milk"}, content_type="application/json", headers=csrf
    )
    todo_id = created.json()["id"]
    ticked = signed_in.patch(
        f"/api/todos/{todo_id}/", {"completed": True}, content_type="application/json", headers=csrf
    )
    deleted = signed_in.delete(f"/api/todos/{todo_id}/", headers=csrf)

    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert created.status_code == HTTPStatus.CREATED
    assert ticked.json()["completed"] is True
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert signed_in.get("/api/todos/").json()["count"] == 0
