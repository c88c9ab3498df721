"""Provisioning: Better Auth claims create and update Django users."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from accounts.authentication import aauthenticate_jwt
from accounts.jwt import Claims
from accounts.models import User
from accounts.services import auser_from_claims, user_from_claims
from accounts.tests.factories import UserFactory
from config import pg
from config.exceptions import AuthError

ME = "/api/me/"


def _me(client, token: str):
    return client.get(ME, headers={"Authorization": f"Bearer {token}"})


def _claims(sub: str = "ba_sub_1", email: str = "ada@example.com", name: str = "Ada") -> Claims:
    return Claims(sub=sub, email=email, name=name, raw={})


@pytest.mark.django_db
def test_first_token_creates_the_user(client, better_auth):
    token = better_auth.token(sub="ba_new_1", id="ba_new_1", email="new@example.com", name="New")

    response = _me(client, token)

    assert response.status_code == HTTPStatus.OK
    user = User.objects.get(better_auth_id="ba_new_1")
    assert (user.email, user.name, user.is_active) == ("new@example.com", "New", True)
    assert not user.has_usable_password()
    assert response.json() == {
        "id": user.id,
        "email": "new@example.com",
        "name": "New",
        "better_auth_id": "ba_new_1",
    }


@pytest.mark.django_db
def test_later_token_updates_email_and_name(client, better_auth, user):
    response = _me(client, better_auth.token(user, email="moved@example.com", name="Renamed"))

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert (user.email, user.name) == ("moved@example.com", "Renamed")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_absent_claims_never_blank_fields(client, better_auth, user):
    email, name = user.email, user.name

    response = _me(client, better_auth.token(user, email=None, name=""))

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert (user.email, user.name) == (email, name)


@pytest.mark.django_db
def test_deactivated_user_gets_401_and_is_left_untouched(client, better_auth, user):
    user.is_active = False
    user.save()

    response = _me(client, better_auth.token(user, name="Sneaky"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    user.refresh_from_db()
    assert user.name != "Sneaky"


@pytest.mark.django_db(transaction=True)
async def test_deactivated_user_is_refused_on_the_async_path(better_auth):
    user = await User.objects.acreate(
        username="off", better_auth_id="ba_off", email="off@example.com", is_active=False
    )

    with pytest.raises(AuthError, match="deactivated"):
        await aauthenticate_jwt(better_auth.token(user))


@pytest.mark.django_db
def test_two_users_do_not_collide(client, better_auth):
    first = better_auth.token(sub="ba_a", id="ba_a", email="same@example.com", name="Same")
    second = better_auth.token(sub="ba_b", id="ba_b", email="same@example.com", name="Same")

    one, two = _me(client, first).json(), _me(client, second).json()

    assert one["id"] != two["id"]
    assert (one["better_auth_id"], two["better_auth_id"]) == ("ba_a", "ba_b")
    assert _me(client, first).json()["id"] == one["id"]
    assert User.objects.count() == 2


@pytest.mark.django_db
def test_existing_django_username_does_not_block_sign_in(client, better_auth):
    UserFactory(username="ba_taken", better_auth_id=None)

    response = _me(client, better_auth.token(sub="taken", id="taken"))

    assert response.status_code == HTTPStatus.OK
    assert User.objects.get(better_auth_id="taken").username != "ba_taken"


@pytest.mark.django_db
def test_long_sub_gets_a_hashed_username(client, better_auth):
    sub = "s" * 255

    response = _me(client, better_auth.token(sub=sub, id=sub))

    assert response.status_code == HTTPStatus.OK
    assert len(User.objects.get(better_auth_id=sub).username) <= 150


@pytest.mark.django_db
def test_sub_longer_than_the_column_is_401(client, better_auth):
    sub = "s" * 256

    response = _me(client, better_auth.token(sub=sub))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["message"] == "Token has no valid subject."
    assert not User.objects.filter(better_auth_id__startswith="sss").exists()


@pytest.mark.django_db
def test_odd_claims_from_a_valid_token_never_500(client, better_auth):
    # PostgreSQL refuses NUL bytes and over-long values: claims are cleaned first.
    token = better_auth.token(
        sub="ba_odd", email="x" * 300 + "@example.com", name="Nul\x00" + "n" * 400
    )

    response = _me(client, token)

    assert response.status_code == HTTPStatus.OK
    user = User.objects.get(better_auth_id="ba_odd")
    assert user.email == ""
    assert user.name.startswith("Nul") and "\x00" not in user.name and len(user.name) == 255


@pytest.mark.django_db
def test_claims_of_wrong_types_are_ignored(client, better_auth):
    response = _me(client, better_auth.token(sub="ba_types", email=["a@b.c"], name={"x": 1}))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["email"] == "" and response.json()["name"] == ""


@pytest.mark.django_db
def test_user_from_claims_is_idempotent():
    first = user_from_claims(claims=_claims())
    again = user_from_claims(claims=_claims())

    assert first.pk == again.pk
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_unchanged_known_user_costs_one_query(django_assert_num_queries):
    user_from_claims(claims=_claims())

    with django_assert_num_queries(1):
        user_from_claims(claims=_claims())


@pytest.mark.django_db(transaction=True)
async def test_async_provisioning_creates_then_updates():
    created = await auser_from_claims(claims=_claims())
    updated = await auser_from_claims(claims=_claims(name="Ada L."))

    assert created.pk == updated.pk
    assert (await User.objects.aget(pk=created.pk)).name == "Ada L."


@pytest.fixture
async def async_database(settings):
    """The chat path's user lookup on psycopg's async connections (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        pytest.skip("async connections are PostgreSQL's")
    settings.CHATKIT = {**settings.CHATKIT, "ASYNC_DATABASE": True}
    yield
    await pg.close_pools()
    await sync_to_async(connections.close_all)()  # the ORM's, from provisioning


@pytest.mark.django_db(transaction=True)
async def test_the_async_lookup_gives_the_same_user_as_the_orm(async_database):
    known = await sync_to_async(UserFactory)(better_auth_id="ba_pg_1", email="a@example.com")

    user = await auser_from_claims(claims=_claims(sub="ba_pg_1", email="a@example.com", name=""))

    assert user.pk == known.pk and not user._state.adding
    orm = await User.objects.aget(pk=known.pk)
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(user, f) for f in fields] == [getattr(orm, f) for f in fields]


@pytest.mark.django_db(transaction=True)
async def test_the_async_lookup_still_refuses_and_provisions(async_database):
    await sync_to_async(UserFactory)(better_auth_id="ba_pg_off", is_active=False)
    with pytest.raises(AuthError):
        await auser_from_claims(claims=_claims(sub="ba_pg_off"))

    created = await auser_from_claims(claims=_claims(sub="ba_pg_new", email="n@example.com"))
    assert (await User.objects.aget(better_auth_id="ba_pg_new")).pk == created.pk
