"""The page's suggested first steps work as typed for the demo user (seed_demo's
data, the offline model), in the order the page shows them."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from accounts.models import User
from chat.context import RequestContext
from chat.pages import HINTS
from chat.server import TodoChatKitServer
from chat.store import DjangoStore
from chat.tests import chatkit_client as ck
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_hints_work_first_try_for_the_demo_user(monkeypatch) -> None:
    # Tests run with DEBUG off, where seed_demo wants the passwords given.
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pass-for-tests")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-pass-for-tests")
    await sync_to_async(call_command)("seed_demo", verbosity=0)
    demo = await User.objects.aget(username="demo")
    server = TodoChatKitServer(DjangoStore())  # the offline model: no API key in tests
    title = HINTS[0].removeprefix("add ")
    assert all(hint.endswith(title) for hint in HINTS if hint != "list")
    assert not await Todo.objects.filter(owner=demo, title__iexact=title).aexists()

    async def say(body: bytes) -> list:
        result = await server.process(body, RequestContext(user=demo))
        return await ck.read_events(result)

    events = await say(ck.create_thread(HINTS[0]))
    thread_id = events[0].thread.id
    answers = [ck.assistant_text(events)]
    assert await Todo.objects.filter(owner=demo, title=title, completed=False).acount() == 1
    for hint in HINTS[1:3]:
        answers.append(ck.assistant_text(await say(ck.add_message(thread_id, hint))))
    assert await Todo.objects.filter(owner=demo, title=title, completed=True).acount() == 1
    answers.append(ck.assistant_text(await say(ck.add_message(thread_id, HINTS[3]))))
    assert not await Todo.objects.filter(owner=demo, title=title).aexists()
    for answer in answers:
        assert "More than one" not in answer and "No todo" not in answer, answer
