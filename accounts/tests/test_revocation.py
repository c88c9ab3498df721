"""Revocation as services: deactivation and sign-out revoke in the database and tell the
sockets once the change is committed (never before, never for a rolled-back change)."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from accounts.client_secrets import authenticate_client_secret, mint_client_secret
from accounts.revocation import REVOKED_MESSAGE_TYPE, session_group, user_group
from accounts.services import user_deactivate, user_sign_out
from accounts.tests.factories import UserFactory
from config.exceptions import AuthError


class Listener:
    """A channel in one group of the channel layer, as a socket consumer would be."""

    def __init__(self, group: str) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(group, self.channel)

    def heard(self) -> list[dict[str, Any]]:
        """What was sent so far (each send completes before the sender returns)."""

        async def drain() -> list[dict[str, Any]]:
            messages = []
            while True:
                try:
                    messages.append(await asyncio.wait_for(self.layer.receive(self.channel), 0.05))
                except TimeoutError:
                    return messages

        return async_to_sync(drain)()


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_deactivation_revokes_and_tells_the_sockets_after_commit(
    user, django_capture_on_commit_callbacks
):
    secret, _ = mint_client_secret(user=user)
    sockets = Listener(user_group(user.pk))

    with django_capture_on_commit_callbacks(execute=True):
        user_deactivate(user=user)
        assert sockets.heard() == []  # not before the commit

    assert sockets.heard() == [{"type": REVOKED_MESSAGE_TYPE}]
    assert not user.is_active
    with pytest.raises(AuthError):
        authenticate_client_secret(secret)
    user.is_active = True
    user.save()
    with pytest.raises(AuthError):  # a new generation: reactivating revives no secret
        authenticate_client_secret(secret)


def test_a_rolled_back_deactivation_closes_nothing(user, django_capture_on_commit_callbacks):
    secret, _ = mint_client_secret(user=user)
    sockets = Listener(user_group(user.pk))

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        user_deactivate(user=user)
        raise RuntimeError("the caller's transaction fails")

    assert callbacks == []
    assert sockets.heard() == []
    assert authenticate_client_secret(secret) == user


def test_sign_out_revokes_that_session_only_after_commit(user, django_capture_on_commit_callbacks):
    signed_out, _ = mint_client_secret(user=user, sid="signed-out")
    kept, _ = mint_client_secret(user=user, sid="kept")
    sockets = Listener(session_group("signed-out"))

    with django_capture_on_commit_callbacks(execute=True):
        user_sign_out(user=user, sid="signed-out")
        assert sockets.heard() == []

    assert sockets.heard() == [{"type": REVOKED_MESSAGE_TYPE}]
    with pytest.raises(AuthError):
        authenticate_client_secret(signed_out)
    assert authenticate_client_secret(kept) == user


def test_unticking_active_in_the_admin_deactivates_through_the_service(
    client, user, django_capture_on_commit_callbacks
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    secret, _ = mint_client_secret(user=user)
    sockets = Listener(user_group(user.pk))
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in {"password", "groups", "user_permissions"}
    }
    data.pop("is_active")  # an unticked checkbox is not sent
    data.pop("last_login", None)
    data["date_joined_0"], data["date_joined_1"] = user.date_joined.strftime(
        "%Y-%m-%d %H:%M:%S"
    ).split()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    assert sockets.heard() == [{"type": REVOKED_MESSAGE_TYPE}]
    user.refresh_from_db()
    assert not user.is_active
    user.is_active = True
    user.save()
    with pytest.raises(AuthError):
        authenticate_client_secret(secret)
