"""The SQL cost of one chat turn does not grow with the thread's length."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.context import RequestContext
from chat.models import ThreadItem
from chat.rows import item_row_fields
from chat.server import get_server
from chat.tests import chatkit_client as ck
from chat.tests.factories import ThreadFactory, assistant_message, user_message
from usage.services import turn_records_flush

pytestmark = pytest.mark.django_db

SAVEPOINT_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def _thread_with_items(user, count: int) -> str:
    thread = ThreadFactory(owner=user, title="long")
    items = [
        (user_message if i % 2 == 0 else assistant_message)(thread.id, f"message {i}")
        for i in range(count)
    ]
    ThreadItem.objects.bulk_create(
        [ThreadItem(thread_id=thread.id, **item_row_fields(thread.id, item)) for item in items]
    )
    return thread.id


def _turn_queries(user, thread_id: str) -> int:
    async def turn() -> list:
        result = await get_server().process(
            # A title of its own: adding an open title again would ask first (chat/choices.py).
            ck.add_message(thread_id, f"add one more to {thread_id}"),
            RequestContext(user=user),
        )
        events = await ck.read_events(result)
        await turn_records_flush()
        return events

    # async_to_sync from this thread runs the ORM's sync_to_async calls here,
    # on the connection CaptureQueriesContext watches.
    with CaptureQueriesContext(connection) as captured:
        events = async_to_sync(turn)()
    assert "error" not in [e.type for e in events]
    # The turn's usage rows are written in the background after the stream; waited for
    # inside the capture (turn_records_flush), so leaving them out is a rule, not timing.
    # Savepoints are left out too (the usage write's own, and the ledger's below).
    return sum(
        1
        for q in captured.captured_queries
        if "usage_" not in q["sql"] and not q["sql"].startswith(SAVEPOINT_STATEMENTS)
    )


def test_one_turn_costs_the_same_queries_at_10_and_500_items(user):
    _turn_queries(user, _thread_with_items(user, 1))  # the day's usage row exists from here
    short = _turn_queries(user, _thread_with_items(user, 10))
    long = _turn_queries(user, _thread_with_items(user, 500))
    assert short == long, (short, long)
    # An "add" turn: thread, messages, tool, hidden item, and the tool's ledger row
    # (chat/ledger.py: its transaction holds the service's; their savepoints are not
    # counted here), and the look for an open todo of the same title (chat/choices.py).
    assert long <= 11, long
