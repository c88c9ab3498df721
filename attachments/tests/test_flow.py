"""The two-phase upload end to end through /chatkit and the upload link, with the
offline model answering (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from attachments.models import Attachment as ChatAttachment
from attachments.models import AttachmentFile, Status
from attachments.tests import client as ac
from attachments.tests.conftest import stored_files
from chat.tests import chatkit_client as ck
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


async def test_create_upload_send_and_list(async_client, user, bearer, attachments_dir):
    headers = bearer(user)
    data = b"milk\nbread\n"
    attachment = await ac.create(async_client, headers, "list.txt", data, "text/plain")

    assert attachment["id"].startswith("atc_") and attachment["type"] == "file"
    assert attachment["name"] == "list.txt"
    descriptor = attachment["upload_descriptor"]
    assert descriptor["method"] == "POST" and descriptor["headers"] == {}
    assert descriptor["url"].startswith("http://testserver/api/attachments/")
    assert "metadata" not in attachment
    row = await AttachmentFile.objects.aget(pk=attachment["id"])
    assert (row.owner_id, row.size, row.status) == (user.pk, len(data), Status.PENDING)

    uploaded = await ac.upload(async_client, descriptor["url"], data, "list.txt", "text/plain")
    assert uploaded.status_code == HTTPStatus.OK
    assert uploaded.json()["upload_descriptor"] is None
    assert [path.read_bytes() for path in stored_files(attachments_dir)] == [data]

    events = await ac.turn(async_client, ac.create_thread_with("", [attachment["id"]]), headers)
    assert "“list.txt”" in ck.assistant_text(events)
    thread_id = events[0].thread.id
    sent = events[1].item
    assert [a.id for a in sent.attachments] == [attachment["id"]]
    assert sent.attachments[0].upload_descriptor is None
    assert (await ChatAttachment.objects.aget(pk=attachment["id"])).thread_id == thread_id

    listed = await ac.chatkit(async_client, ck.list_items(thread_id), headers)
    first = listed.json()["data"][0]
    assert [a["name"] for a in first["attachments"]] == ["list.txt"]


async def test_an_image_by_put_gets_an_owner_preview(async_client, user, bearer, png):
    headers = bearer(user)
    attachment = await ac.create(async_client, headers, "photo.png", png, "image/png")
    assert attachment["type"] == "image"
    uploaded = await ac.upload(
        async_client,
        attachment["upload_descriptor"]["url"],
        png,
        "photo.png",
        "image/png",
        put=True,
    )
    assert uploaded.status_code == HTTPStatus.OK

    preview = await async_client.get(attachment["preview_url"])
    assert preview.status_code == HTTPStatus.OK
    assert b"".join(preview.streaming_content) == png
    assert preview["Content-Type"] == "image/png"

    events = await ac.turn(
        async_client, ac.create_thread_with("what is this?", [attachment["id"]]), headers
    )
    assert "“photo.png”" in ck.assistant_text(events)


async def test_add_these_with_a_csv_adds_one_todo_per_line(async_client, user, other_user, bearer):
    headers = bearer(user)
    data = b"buy milk,high\n\n  call mum  \nfix bike,low\n"
    csv = await ac.attach(async_client, headers, "todo.csv", data, "text/csv")

    events = await ac.turn(async_client, ac.create_thread_with("add these", [csv["id"]]), headers)

    titles = sorted([t.title async for t in Todo.objects.filter(owner=user)])
    assert titles == ["buy milk", "call mum", "fix bike"]
    assert not await Todo.objects.filter(owner=other_user).aexists()
    text = ck.assistant_text(events)
    assert "Added 3 todo(s) from “todo.csv”" in text
    assert "client_effect" in [event.type for event in events]

    # The next turn in the thread is an ordinary one.
    thread_id = events[0].thread.id
    listed = await ac.turn(async_client, ck.add_message(thread_id, "list"), headers)
    assert "call mum" in ck.widget_item(listed).copy_text  # "list" answers with a widget


async def test_add_these_with_a_text_file_strips_list_markers(async_client, user, bearer):
    headers = bearer(user)
    data = "- [ ] water plants\n* pay rent\n2. café visit\n".encode()
    notes = await ac.attach(async_client, headers, "notes.md", data, "text/markdown")
    thread_id, _ = await _thread(async_client, headers)

    await ac.turn(async_client, ac.add_message_with(thread_id, "Add these", [notes["id"]]), headers)

    titles = sorted([t.title async for t in Todo.objects.filter(owner=user)])
    assert titles == ["café visit", "pay rent", "water plants"]


async def _thread(client, headers) -> tuple[str, list]:
    events = await ac.turn(client, ck.create_thread("hello"), headers)
    return events[0].thread.id, events


async def test_an_attachment_sent_in_one_thread_cannot_move_to_another(async_client, user, bearer):
    headers = bearer(user)
    notes = await ac.attach(async_client, headers, "a.txt", b"x\n", "text/plain")
    await ac.turn(async_client, ac.create_thread_with("hi", [notes["id"]]), headers)
    other_thread, _ = await _thread(async_client, headers)

    response = await ac.chatkit(
        async_client, ac.add_message_with(other_thread, "again", [notes["id"]]), headers
    )
    assert ac.error(response) == (HTTPStatus.BAD_REQUEST, "bad_request")


async def test_a_message_naming_an_attachment_not_uploaded_yet_is_400(async_client, user, bearer):
    headers = bearer(user)
    pending = await ac.create(async_client, headers, "a.txt", b"abc", "text/plain")
    response = await ac.chatkit(async_client, ac.create_thread_with("hi", [pending["id"]]), headers)
    assert ac.error(response) == (HTTPStatus.BAD_REQUEST, "bad_request")
    assert "not been uploaded" in json.loads(response.content)["error"]["message"]
