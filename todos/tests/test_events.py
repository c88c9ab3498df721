"""publish_todo_change: one group per user, callable from sync and async code,
only after commit, and never an error for the write when the layer is down."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connections, transaction

from accounts.models import User
from config.tests.servers import free_port
from todos import events, services

pytestmark = pytest.mark.django_db(transaction=True)

TODO = {"id": 7, "title": "Buy milk", "completed": False}


async def joined(user: User) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(events.group_name(user.pk), channel)
    return channel


async def receive(channel: str) -> dict[str, Any]:
    return await get_channel_layer().receive(channel)


def test_group_names_are_per_user_and_valid_for_channel_layers(user, other_user) -> None:
    names = {events.group_name(user.pk), events.group_name(other_user.pk)}
    assert len(names) == 2
    for name in names:
        # Channels accepts ASCII letters, digits, hyphens, underscores and periods.
        assert get_channel_layer().require_valid_group_name(name)


def test_publish_from_sync_code_reaches_the_users_group(user) -> None:
    channel = async_to_sync(joined)(user)

    events.publish_todo_change(user_id=user.pk, kind="created", todo=TODO)

    message = async_to_sync(receive)(channel)
    assert message == {
        "type": events.MESSAGE_TYPE,
        "event": {"type": "todo.created", "todo": TODO},
    }


async def test_publish_from_the_event_loop_thread_is_sent_too(user) -> None:
    channel = await joined(user)

    # No sync_to_async here: the call runs on the loop's own thread.
    events.publish_todo_change(user_id=user.pk, kind="deleted", todo=TODO)

    assert (await receive(channel))["event"] == {"type": "todo.deleted", "todo": TODO}


async def test_a_change_is_published_once_committed_and_never_when_rolled_back(user) -> None:
    channel = await joined(user)

    def create_then_roll_back() -> None:
        with transaction.atomic():
            services.todo_create(user=user, title="Never saved")
            transaction.set_rollback(True)

    await sync_to_async(create_then_roll_back)()
    kept = await services.atodo_create(user=user, title="Saved")

    await sync_to_async(connections.close_all)()  # the worker thread's connection

    # The first (and only) message is the committed one.
    event = (await receive(channel))["event"]
    assert (event["type"], event["todo"]["title"], event["todo"]["id"]) == (
        "todo.created",
        "Saved",
        kept.pk,
    )


def test_a_layer_that_is_down_is_logged_not_raised(user, settings, caplog) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A port where nothing listens: the connection is refused at once.
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"], "prefix": "test-h5-down"},
        }
    }
    with caplog.at_level(logging.WARNING, logger="config.broadcast"):
        todo = services.todo_create(user=user, title="Saved anyway")

    assert todo.pk is not None
    assert "Channel layer unreachable" in caplog.text
