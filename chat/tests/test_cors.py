"""CORS for external frontends (a Next.js app with ChatKit and Better Auth):
/chatkit and /api/ answer preflights from CORS_ALLOWED_ORIGINS only."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

FRONTEND = "http://localhost:3000"
STRANGER = "https://evil.example"
CHATKIT_HEADERS = "authorization, content-type, chatkit-frame-instance-id"
PATHS = ["/chatkit", "/api/chatkit/session", "/api/todos/", "/api/todos/1/"]


@pytest.fixture(autouse=True)
def _frontend_allowed(settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = [FRONTEND]


def preflight(client: Client, path: str, origin: str, method: str = "POST"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": CHATKIT_HEADERS,
        },
    )


@pytest.mark.parametrize("path", PATHS)
def test_preflight_from_an_allowed_origin_allows_chatkit_headers(client: Client, path: str) -> None:
    response = preflight(client, path, FRONTEND)

    assert response.status_code == HTTPStatus.OK
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].lower().split(",")}
    assert {"authorization", "content-type", "chatkit-frame-instance-id"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("path", PATHS)
def test_preflight_from_another_origin_is_refused(client: Client, path: str) -> None:
    response = preflight(client, path, STRANGER)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


def test_a_refusal_is_readable_by_the_allowed_frontend(client: Client) -> None:
    # A 401 must carry CORS headers too, or the browser hides it from the app.
    response = client.post(
        "/chatkit", b"{}", content_type="application/json", headers={"Origin": FRONTEND}
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["Access-Control-Allow-Origin"] == FRONTEND


def test_a_real_request_from_another_origin_gets_no_cors_headers(client: Client) -> None:
    response = client.post(
        "/chatkit", b"{}", content_type="application/json", headers={"Origin": STRANGER}
    )

    assert "Access-Control-Allow-Origin" not in response


def test_the_built_in_page_is_not_opened_to_other_origins(client: Client) -> None:
    response = preflight(client, "/", FRONTEND, method="GET")

    assert "Access-Control-Allow-Origin" not in response


def test_without_configured_origins_only_the_same_origin_works(client: Client, settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = []

    response = preflight(client, "/chatkit", FRONTEND)

    assert "Access-Control-Allow-Origin" not in response


def test_the_allowed_frontend_can_read_retry_after(client: Client) -> None:
    # Retry-After is not a CORS-safelisted header: without this a 429's wait is hidden.
    response = client.post(
        "/chatkit", b"{}", content_type="application/json", headers={"Origin": FRONTEND}
    )

    assert "retry-after" in response["Access-Control-Expose-Headers"].lower()
