import base64
import re
import time
from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.client_secrets import (
    aauthenticate_client_secret,
    authenticate_client_secret,
    mint_client_secret,
)
from accounts.models import User
from accounts.revocation import revoke_session, revoke_user_secrets
from accounts.services import user_deactivate
from accounts.tests.factories import UserFactory
from config import pg
from config.exceptions import AuthError

pytestmark = pytest.mark.django_db


def test_a_minted_secret_authenticates_its_user_until_it_expires(user, settings):
    secret, expires_at = mint_client_secret(user=user)
    assert secret.startswith("cks_")
    assert expires_at > time.time()
    assert authenticate_client_secret(secret) == user

    settings.CHATKIT = {**settings.CHATKIT, "SESSION_TTL": -1}
    expired, _ = mint_client_secret(user=user)
    with pytest.raises(AuthError, match="expired"):
        authenticate_client_secret(expired)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"),  # bad signature
        lambda s: "cks_" + "x" * 40,
        lambda s: s + "x" * 600,  # oversize
        lambda s: s.replace("cks_", "cks_eyJ1Ijo5OTl9:"),
    ],
)
def test_tampered_secrets_are_refused(user, mangle):
    secret, _ = mint_client_secret(user=user)
    with pytest.raises(AuthError):
        authenticate_client_secret(mangle(secret))


def test_a_deactivated_users_secret_stops_working(user):
    secret, _ = mint_client_secret(user=user)
    user.is_active = False
    user.save()
    with pytest.raises(AuthError):
        authenticate_client_secret(secret)


def test_session_endpoint_mints_for_a_better_auth_jwt(client, user, bearer, settings):
    response = client.post("/api/chatkit/session", headers=bearer(user))
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert set(body) == {"client_secret", "expires_at"}
    assert authenticate_client_secret(body["client_secret"]) == user
    assert abs(body["expires_at"] - (time.time() + settings.CHATKIT["SESSION_TTL"])) < 5

    again = client.post("/api/chatkit/session", headers=bearer(user)).json()
    assert again["client_secret"] != body["client_secret"]  # calling again refreshes
    assert again["expires_at"] >= body["expires_at"]


def test_session_endpoint_accepts_the_django_session_with_csrf(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    refused = browser.post("/api/chatkit/session")
    assert refused.status_code == HTTPStatus.UNAUTHORIZED  # no CSRF token

    browser.get("/accounts/login/")  # sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/api/chatkit/session", headers={"X-CSRFToken": token})
    assert response.status_code == HTTPStatus.OK
    assert authenticate_client_secret(response.json()["client_secret"]) == user


@pytest.mark.parametrize("path", ["/api/chatkit/session", "/api/todos/"])
def test_a_client_secret_is_refused_outside_chatkit(client, user, path):
    secret, _ = mint_client_secret(user=user)
    response = client.post(path, {"title": "x"}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_session_endpoint_without_credentials_is_401(client):
    response = client.post("/api/chatkit/session")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"


def test_session_endpoint_refuses_get(client, user, bearer):
    response = client.get("/api/chatkit/session", headers=bearer(user))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- revocation (SPEC "Revocation"; accounts.revocation) ----------------------------


def _page(user) -> Client:
    browser = Client()
    browser.force_login(user)  # through login(), as the sign-in form
    return browser


def _page_secret(browser: Client) -> str:
    response = browser.post("/api/chatkit/session")
    assert response.status_code == HTTPStatus.OK
    return response.json()["client_secret"]


def _chatkit_status(secret: str) -> int:
    body = b'{"type": "threads.list", "params": {"limit": 5}}'
    headers = {"Authorization": f"Bearer {secret}"}
    return (
        Client()
        .post("/chatkit", body, content_type="application/json", headers=headers)
        .status_code
    )


def test_sign_out_revokes_the_secrets_minted_from_that_page_session_only(user, bearer):
    page, other_tab_session = _page(user), _page(user)
    first, second = _page_secret(page), _page_secret(page)
    kept = _page_secret(other_tab_session)
    by_jwt = Client().post("/api/chatkit/session", headers=bearer(user)).json()["client_secret"]
    assert _chatkit_status(first) == HTTPStatus.OK

    assert page.post("/accounts/logout/").status_code == HTTPStatus.FOUND

    for revoked in (first, second):
        with pytest.raises(AuthError):
            authenticate_client_secret(revoked)
        assert _chatkit_status(revoked) == HTTPStatus.UNAUTHORIZED
    # Another browser session of the same user, and JWT-minted secrets, are not that session.
    assert authenticate_client_secret(kept) == user
    assert authenticate_client_secret(by_jwt) == user


def test_deactivation_revokes_all_secrets_even_after_reactivation(user):
    from_page = _page_secret(_page(user))
    from_api, _ = mint_client_secret(user=user)

    user_deactivate(user=user)
    user.is_active = True
    user.save()

    for secret in (from_page, from_api):
        with pytest.raises(AuthError):
            authenticate_client_secret(secret)
    user.refresh_from_db()
    fresh, _ = mint_client_secret(user=user)
    assert authenticate_client_secret(fresh) == user


def test_a_secret_is_valid_in_a_subprotocol_and_never_carries_the_session_key(user):
    page = _page(user)
    secret = _page_secret(page)
    # RFC 6455 subprotocol tokens: no ":" or other separators.
    assert re.fullmatch(r"cks_[A-Za-z0-9._-]+", secret)
    session_key = page.cookies[settings.SESSION_COOKIE_NAME].value
    assert session_key not in base64.urlsafe_b64decode(secret[4:].split(".")[0] + "==").decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the event loop's SQL path")
async def test_on_the_event_loop_a_secret_is_checked_as_the_orm_checks_it(settings):
    settings.CHATKIT = {**settings.CHATKIT, "ASYNC_DATABASE": True}
    user, other = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    plain, _ = mint_client_secret(user=user)
    kept, _ = mint_client_secret(user=user, sid="kept-session")
    revoked, _ = mint_client_secret(user=user, sid="signed-out")
    theirs, _ = mint_client_secret(user=other)
    await sync_to_async(revoke_session)(user_id=user.pk, sid="signed-out")
    await sync_to_async(revoke_user_secrets)(user_id=other.pk)
    try:
        for secret, expected in ((plain, user), (kept, user), (revoked, None), (theirs, None)):
            if expected is None:
                with pytest.raises(AuthError):
                    await aauthenticate_client_secret(secret)
                with pytest.raises(AuthError):
                    await sync_to_async(authenticate_client_secret)(secret)
                continue
            found = await aauthenticate_client_secret(secret)
            assert found == expected
            assert [getattr(found, f.attname) for f in User._meta.concrete_fields] == [
                getattr(expected, f.attname) for f in User._meta.concrete_fields
            ]
        user.is_active = False
        await user.asave(update_fields=["is_active"])
        with pytest.raises(AuthError):
            await aauthenticate_client_secret(plain)
    finally:
        await pg.close_pools()


def test_signing_in_again_never_keeps_earlier_secrets_past_the_sign_out(user):
    # Issue 20 #3: a second sign-in replaced the session's sid, so what the first one
    # minted was never revoked: after sign-out the old secret still answered 200.
    page = _page(user)
    before = _page_secret(page)
    page.force_login(user)  # signing in again, in the same browser
    after = _page_secret(page)

    assert page.post("/accounts/logout/").status_code == HTTPStatus.FOUND

    for secret in (before, after):
        assert _chatkit_status(secret) == HTTPStatus.UNAUTHORIZED


def test_another_user_signing_in_on_the_browser_orphans_no_secret(user):
    # Issue 20 #3: another user signing in flushed the session and its sid with it: the
    # first user's secrets could never be revoked by any sign-out.
    page = _page(user)
    first_users = _page_secret(page)
    other = UserFactory()
    page.force_login(other)
    other_users = _page_secret(page)

    assert page.post("/accounts/logout/").status_code == HTTPStatus.FOUND

    for secret in (first_users, other_users):
        assert _chatkit_status(secret) == HTTPStatus.UNAUTHORIZED
