"""Shared auth fixtures: users, bearer tokens and a local Better Auth (pytest plugin)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from accounts import dev_issuer
from accounts.models import User
from accounts.tests.betterauth import BaseKeys, BetterAuth, BetterAuthServer
from accounts.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _dev_key_in_tmp(settings, tmp_path_factory):
    # Each test session signs dev tokens with its own key, never the developer's var/ key.
    key_dir = tmp_path_factory.getbasetemp() / "devkey"
    key_dir.mkdir(exist_ok=True)
    settings.BETTER_AUTH = {**settings.BETTER_AUTH, "DEV_KEY_PATH": key_dir / "dev.pem"}


@pytest.fixture
def user(db) -> User:
    return UserFactory()


@pytest.fixture
def other_user(db) -> User:
    return UserFactory()


@pytest.fixture
def token_for() -> Callable[[User], str]:
    """A valid Better-Auth-shaped JWT for a user (signed by the dev issuer)."""

    def make(user: User) -> str:
        return dev_issuer.issue_token(user.email, name=user.name, sub=user.better_auth_id)

    return make


@pytest.fixture
def bearer(token_for) -> Callable[[User], dict[str, str]]:
    """Headers for Django's test clients: {"Authorization": "Bearer <jwt>"}."""

    def make(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user)}"}

    return make


# --- A local Better Auth (JWKS server with real keys) -----------------------------


@pytest.fixture(scope="session")
def better_auth_server() -> Iterator[BetterAuthServer]:
    """One JWKS server for the session; `better_auth` resets its state per test."""
    server = BetterAuthServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def better_auth_keys() -> BaseKeys:
    return BaseKeys.generate()


@pytest.fixture
def better_auth(settings, better_auth_server, better_auth_keys) -> Iterator[BetterAuth]:
    """Point BETTER_AUTH at the local stand-in (URL, JWKS, iss = aud = its base URL).

    Changing the setting rebuilds the verifier, so every test starts with an
    empty key cache and `fetch_count == 0`.
    """

    def configure(**overrides: object) -> None:
        settings.BETTER_AUTH = {**settings.BETTER_AUTH, **overrides}

    helper = BetterAuth(better_auth_server, better_auth_keys, configure)
    configure(URL=helper.url, JWKS_URL=helper.jwks_url, ISSUER=helper.url, AUDIENCE=helper.url)
    yield helper
    helper.set_outage(None)
