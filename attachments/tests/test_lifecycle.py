"""Bytes go with their attachment: attachments.delete, deleting the thread, the
retention purge, and the purge of attachments announced but never sent."""

from __future__ import annotations

import datetime
import functools
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from attachments.models import Attachment as ChatAttachment
from attachments.models import AttachmentFile
from attachments.tests import client as ac
from attachments.tests.conftest import stored_files
from chat.models import Thread
from chat.tests import chatkit_client as ck

pytestmark = pytest.mark.django_db(transaction=True)


async def test_attachments_delete_removes_bytes_and_rows(
    async_client, user, bearer, png, attachments_dir
):
    attachment = await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    assert len(stored_files(attachments_dir)) == 1

    response = await ac.chatkit(async_client, ac.delete_body(attachment["id"]), bearer(user))

    assert response.status_code == HTTPStatus.OK
    assert stored_files(attachments_dir) == []
    assert not await AttachmentFile.objects.aexists()
    assert not await ChatAttachment.objects.aexists()
    preview = await async_client.get(attachment["preview_url"])
    assert preview.status_code == HTTPStatus.NOT_FOUND


async def test_deleting_the_thread_removes_its_attachments_bytes(
    async_client, user, bearer, png, attachments_dir
):
    headers = bearer(user)
    image = await ac.attach(async_client, headers, "p.png", png, "image/png")
    kept = await ac.attach(async_client, headers, "later.txt", b"x\n", "text/plain")
    events = await ac.turn(async_client, ac.create_thread_with("look", [image["id"]]), headers)

    response = await ac.chatkit(async_client, ck.delete_thread(events[0].thread.id), headers)

    assert response.status_code == HTTPStatus.OK
    assert [path.read_bytes() for path in stored_files(attachments_dir)] == [b"x\n"]
    assert [row.pk async for row in AttachmentFile.objects.all()] == [kept["id"]]


async def test_purge_threads_removes_old_threads_bytes_and_day_old_orphans(
    async_client, user, bearer, png, attachments_dir
):
    headers = bearer(user)
    sent = await ac.attach(async_client, headers, "old.png", png, "image/png")
    events = await ac.turn(async_client, ac.create_thread_with("look", [sent["id"]]), headers)
    orphan = await ac.attach(async_client, headers, "orphan.txt", b"o\n", "text/plain")
    fresh = await ac.attach(async_client, headers, "fresh.txt", b"f\n", "text/plain")
    long_ago = timezone.now() - datetime.timedelta(days=40)
    await Thread.objects.filter(pk=events[0].thread.id).aupdate(updated_at=long_ago)
    day_ago = timezone.now() - datetime.timedelta(hours=25)
    await ChatAttachment.objects.filter(pk=orphan["id"]).aupdate(created_at=day_ago)

    await sync_to_async(call_command)("purge_threads", "--dry-run", verbosity=0)
    assert len(stored_files(attachments_dir)) == 3

    await sync_to_async(call_command)("purge_threads", verbosity=0)

    assert [path.read_bytes() for path in stored_files(attachments_dir)] == [b"f\n"]
    assert [row.pk async for row in AttachmentFile.objects.all()] == [fresh["id"]]


async def test_deleting_a_user_removes_their_bytes(
    async_client, user, other_user, bearer, png, attachments_dir
):
    await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    await ac.attach(async_client, bearer(other_user), "theirs.txt", b"t\n", "text/plain")

    await user.adelete()

    assert [path.read_bytes() for path in stored_files(attachments_dir)] == [b"t\n"]


async def test_bytes_on_disk_are_readable_by_the_app_alone(
    async_client, user, bearer, png, attachments_dir
):
    # Issue 20 #9: files were written 0644 (directories 0755).
    await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    (stored,) = stored_files(attachments_dir)
    assert stored.stat().st_mode & 0o777 == 0o600
    directory = stored.parent
    while directory != attachments_dir.parent:
        assert directory.stat().st_mode & 0o777 == 0o700, directory
        directory = directory.parent


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in a thread of its own, released at the same moment; their results."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = calls[index]()
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_an_upload_racing_its_delete_leaves_no_bytes_and_is_never_500(
    user, bearer, attachments_dir
):
    # Issue 20 #5: the delete read the row before the upload recorded its bytes and
    # deleted it after, so the bytes outlived their row (outside the quota, never
    # purged) and the upload answered 500. Two real threads, released together, each
    # round; whichever wins, nothing is left and the upload is answered 200 or 404.
    data = b"milk\n" * 20_000
    headers = bearer(user)

    def chatkit(body: bytes):
        return Client().post("/chatkit", body, content_type="application/json", headers=headers)

    for _ in range(30):
        attachment = chatkit(ac.create_body("notes.txt", len(data), "text/plain")).json()
        upload_file = SimpleUploadedFile("notes.txt", data, "text/plain")
        uploaded, deleted = _together(
            functools.partial(
                Client().post, attachment["upload_descriptor"]["url"], {"file": upload_file}
            ),
            functools.partial(chatkit, ac.delete_body(attachment["id"])),
        )
        assert deleted.status_code == HTTPStatus.OK, deleted.content
        assert uploaded.status_code in (HTTPStatus.OK, HTTPStatus.NOT_FOUND), uploaded.content
        assert not AttachmentFile.objects.exists()
        assert stored_files(attachments_dir) == []
