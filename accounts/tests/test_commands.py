"""`manage.py issue_dev_token`: its tokens sign in; it refuses beside Better Auth."""

from __future__ import annotations

from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts import dev_issuer
from accounts.models import User


def _issue(*args: str) -> str:
    out = StringIO()
    call_command("issue_dev_token", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_issued_token_authenticates_against_me(client):
    token = _issue("dev@example.com", "--name", "Dev Person")

    response = client.get("/api/me/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["email"], body["name"]) == ("dev@example.com", "Dev Person")
    assert body["better_auth_id"] == dev_issuer.sub_for_email("dev@example.com")


@pytest.mark.django_db
def test_same_email_is_the_same_user_across_tokens(client):
    for _ in range(2):
        token = _issue("Same@Example.com")
        response = client.get("/api/me/", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == HTTPStatus.OK

    assert User.objects.count() == 1


@pytest.mark.django_db
def test_expired_dev_token_is_refused(client, settings):
    token = dev_issuer.issue_token("dev@example.com", ttl=-120)

    response = client.get("/api/me/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["message"] == "Token has expired."


def test_refuses_when_better_auth_url_is_set(settings):
    settings.BETTER_AUTH = {**settings.BETTER_AUTH, "URL": "https://auth.example.com"}

    with pytest.raises(CommandError, match="BETTER_AUTH_URL"):
        _issue("dev@example.com")


def test_refuses_when_only_a_jwks_url_is_set(settings):
    settings.BETTER_AUTH = {**settings.BETTER_AUTH, "JWKS_URL": "https://a.example.com/jwks"}

    with pytest.raises(CommandError):
        _issue("dev@example.com")


@pytest.mark.parametrize(
    ("args", "message"), [(["not-an-email"], "EMAIL"), (["a@b.c", "--ttl", "0"], "ttl")]
)
def test_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        _issue(*args)


def test_dev_key_is_created_private(settings, tmp_path):
    path = tmp_path / "keys" / "dev.pem"
    settings.BETTER_AUTH = {**settings.BETTER_AUTH, "DEV_KEY_PATH": path}

    first = dev_issuer.jwks()

    assert path.stat().st_mode & 0o777 == 0o600
    assert dev_issuer.jwks() == first  # the key is kept, not regenerated
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


@pytest.mark.django_db
def test_a_token_for_an_existing_user_signs_in_as_that_user(client):
    """The README's curl example: `issue_dev_token --user demo` is the demo's own token,
    so what curl adds shows on the demo's page (an email token is a separate user)."""
    demo = User.objects.create_user("demo", email="demo@example.com", password="x-1234567")
    demo.todos.create(title="Buy groceries")

    token = _issue("--user", "demo")
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/me/", headers=headers)
    todos = client.get("/api/todos/", headers=headers)
    again = client.get("/api/me/", headers={"Authorization": f"Bearer {_issue('--user', 'demo')}"})

    assert me.status_code == HTTPStatus.OK and me.json()["id"] == demo.pk
    assert [t["title"] for t in todos.json()["results"]] == ["Buy groceries"]
    assert again.json()["id"] == demo.pk
    assert User.objects.count() == 1
    demo.refresh_from_db()
    assert (demo.email, demo.check_password("x-1234567")) == ("demo@example.com", True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--user", "nobody"), "No user named 'nobody'"),
        (("dev@example.com", "--user", "demo"), "either EMAIL or --user"),
        ((), "either EMAIL or --user"),
    ],
)
def test_user_option_refuses_unknown_users_and_ambiguity(args, message):
    with pytest.raises(CommandError, match=message):
        _issue(*args)


@pytest.mark.django_db
def test_user_option_refuses_a_deactivated_user():
    User.objects.create_user("gone", is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        _issue("--user", "gone")
