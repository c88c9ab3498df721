"""purge_threads, and the demo conversation seed_demo adds."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from chat.context import RequestContext
from chat.models import Thread, ThreadItem
from chat.services import demo_thread_id, seed_demo_conversation, thread_purge
from chat.store import DjangoStore
from chat.tests.factories import ThreadFactory, ThreadItemFactory, user_message
from todos.models import Todo

pytestmark = pytest.mark.django_db


def idle_thread(owner: User, days: int, items: int = 2) -> Thread:
    then = timezone.now() - datetime.timedelta(days=days)
    thread = ThreadFactory(owner=owner, created_at=then, updated_at=then)
    ThreadItemFactory.create_batch(items, thread=thread)
    return thread


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_threads", *args, stdout=out)
    return out.getvalue()


def test_purge_deletes_only_threads_idle_longer_than_days(user, other_user):
    old = idle_thread(user, days=40, items=3)
    old_other = idle_thread(other_user, days=31, items=1)
    recent = idle_thread(user, days=5)

    output = purge("--days", "30")

    assert "Deleted 2 thread(s) and 4 item(s)" in output
    assert list(Thread.objects.all()) == [recent]
    assert not ThreadItem.objects.filter(thread_id__in=[old.id, old_other.id]).exists()
    assert ThreadItem.objects.filter(thread=recent).count() == 2


def test_dry_run_counts_and_deletes_nothing(user):
    idle_thread(user, days=40, items=3)
    idle_thread(user, days=1)

    output = purge("--days", "30", "--dry-run")

    assert "Would delete 1 thread(s) and 3 item(s)" in output
    assert Thread.objects.count() == 2
    assert ThreadItem.objects.count() == 5


def test_default_days_come_from_the_retention_setting(settings, user):
    settings.CHATKIT = {**settings.CHATKIT, "THREAD_RETENTION_DAYS": 10}
    idle_thread(user, days=11)
    kept = idle_thread(user, days=9)
    assert "Deleted 1 thread(s)" in purge()
    assert list(Thread.objects.all()) == [kept]


def test_recent_activity_keeps_an_old_thread(user):
    thread = idle_thread(user, days=90)
    # A new message bumps last activity (what the store does on every item).
    async_to_sync(DjangoStore().add_thread_item)(
        thread.id, user_message(thread.id), RequestContext(user=user)
    )
    assert "Deleted 0 thread(s)" in purge("--days", "30")
    assert Thread.objects.filter(pk=thread.pk).exists()


def test_verbosity(user):
    idle_thread(user, days=40)
    assert purge("--dry-run", "--verbosity", "0") == ""
    assert "cutoff:" in purge("--dry-run", "--verbosity", "2")


def test_negative_days_are_refused():
    with pytest.raises(CommandError):
        purge("--days", "-1")
    with pytest.raises(ValueError):
        thread_purge(older_than_days=-1, dry_run=True)


def test_seed_demo_conversation_is_idempotent(user):
    seed_demo_conversation(user=user)
    seed_demo_conversation(user=user)

    thread = Thread.objects.get(owner=user)
    assert thread.pk == demo_thread_id(user)
    page = async_to_sync(DjangoStore().load_thread_items)(
        thread.id, None, 20, "asc", RequestContext(user=user)
    )
    assert [(item.type, item.content[0].text) for item in page.data] == [
        ("user_message", "add buy milk"),
        ("assistant_message", 'Added "buy milk" to your todos.'),
    ]
    assert Todo.objects.filter(owner=user, title="buy milk").count() == 1


def test_seed_demo_command_adds_the_demo_conversation(settings):
    settings.DEBUG = True  # seed_demo's default passwords are for the Quickstart only
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    demo = User.objects.get(username="demo")
    assert Thread.objects.filter(owner=demo).count() == 1
    assert ThreadItem.objects.filter(thread__owner=demo).count() == 2
    assert Todo.objects.filter(owner=demo, title="buy milk").count() == 1
