"""Every limit and check of SPEC's attachments: type, size, quota, magic numbers,
upload links used once, in time, by their user; another user's attachment is 404."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.models import User
from attachments.models import AttachmentFile, Status
from attachments.tests import client as ac
from attachments.tests.conftest import stored_files
from chat.models import Thread

pytestmark = pytest.mark.django_db(transaction=True)

BAD, TOO_LARGE, NOT_FOUND = (
    (HTTPStatus.BAD_REQUEST, "bad_request"),
    (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large"),
    (HTTPStatus.NOT_FOUND, "not_found"),
)


@pytest.mark.parametrize(
    "mime_type", ["text/html", "image/svg+xml", "application/javascript", "application/zip", ""]
)
async def test_types_outside_the_allowed_list_are_400(async_client, user, bearer, mime_type):
    response = await ac.chatkit(async_client, ac.create_body("x", 10, mime_type), bearer(user))
    assert ac.error(response) == BAD
    assert not await AttachmentFile.objects.aexists()


async def test_declared_size_over_the_cap_is_413(async_client, user, bearer, limits):
    limits(MAX_BYTES=100)
    response = await ac.chatkit(
        async_client, ac.create_body("a.txt", 101, "text/plain"), bearer(user)
    )
    assert ac.error(response) == TOO_LARGE
    assert "at most" in response.json()["error"]["message"]


async def test_a_zero_size_is_400(async_client, user, bearer):
    response = await ac.chatkit(
        async_client, ac.create_body("a.txt", 0, "text/plain"), bearer(user)
    )
    assert ac.error(response) == BAD


async def test_the_quota_counts_all_of_a_users_attachments(
    async_client, user, other_user, bearer, limits
):
    limits(QUOTA_BYTES=10)
    await ac.attach(async_client, bearer(user), "a.txt", b"123456", "text/plain")
    await ac.create(async_client, bearer(user), "b.txt", b"1234", "text/plain")  # reserved

    response = await ac.chatkit(
        async_client, ac.create_body("c.txt", 1, "text/plain"), bearer(user)
    )
    assert ac.error(response) == TOO_LARGE
    # Someone else's quota is their own.
    await ac.create(async_client, bearer(other_user), "c.txt", b"123456789", "text/plain")


@pytest.mark.parametrize(
    ("mime_type", "data"),
    [
        ("image/png", b"\xff\xd8\xff\xe0 a jpeg, not a png"),
        ("image/jpeg", b"<html><script>alert(1)</script></html>"),
        ("image/gif", b"\x89PNG\r\n\x1a\n...."),
        ("image/webp", b"RIFF\x00\x00\x00\x00WAVEfmt "),
        ("application/pdf", b"<svg onload=alert(1)>"),
        ("text/plain", b"MZ\x90\x00\x03\x00\x00\x00binary"),
        ("text/csv", b"\xff\xfe\x00\x00not utf-8"),
    ],
)
async def test_bytes_that_are_not_the_declared_type_are_400(
    async_client, user, bearer, attachments_dir, mime_type, data
):
    attachment = await ac.create(async_client, bearer(user), "f", data, mime_type)
    url = attachment["upload_descriptor"]["url"]
    response = await ac.upload(async_client, url, data, "f", mime_type)
    assert ac.error(response) == BAD
    assert "content is not" in response.json()["error"]["message"]
    assert stored_files(attachments_dir) == []
    assert (await AttachmentFile.objects.aget()).status == Status.PENDING


async def test_more_bytes_than_announced_are_413(async_client, user, bearer, attachments_dir):
    attachment = await ac.create(async_client, bearer(user), "a.txt", b"abc", "text/plain")
    url = attachment["upload_descriptor"]["url"]
    for put in (False, True):
        response = await ac.upload(async_client, url, b"abcdef", "a.txt", "text/plain", put=put)
        assert ac.error(response) == TOO_LARGE
    assert stored_files(attachments_dir) == []


async def test_a_body_over_the_cap_is_413_before_it_is_read(async_client, user, bearer, limits):
    limits(MAX_BYTES=10)
    attachment = await ac.create(async_client, bearer(user), "a.txt", b"abc", "text/plain")
    response = await async_client.put(
        attachment["upload_descriptor"]["url"], b"x" * 200_000, content_type="text/plain"
    )
    assert ac.error(response) == TOO_LARGE


async def test_an_upload_link_works_once(async_client, user, bearer, attachments_dir):
    data = b"hello\n"
    attachment = await ac.attach(async_client, bearer(user), "a.txt", data, "text/plain")
    url = attachment["upload_descriptor"]["url"]

    again = await ac.upload(async_client, url, b"evil!\n", "a.txt", "text/plain")
    assert ac.error(again) == BAD
    assert "already used" in again.json()["error"]["message"]
    assert [path.read_bytes() for path in stored_files(attachments_dir)] == [data]


async def test_an_expired_upload_link_is_refused(async_client, user, bearer, limits):
    attachment = await ac.create(async_client, bearer(user), "a.txt", b"abc", "text/plain")
    limits(UPLOAD_URL_TTL=-1)  # every link is past its lifetime
    response = await ac.upload(
        async_client, attachment["upload_descriptor"]["url"], b"abc", "a.txt", "text/plain"
    )
    assert ac.error(response) == BAD
    assert "expired" in response.json()["error"]["message"]


async def test_an_upload_link_only_works_for_its_user_and_attachment(
    async_client, user, other_user, bearer
):
    mine = await ac.create(async_client, bearer(user), "a.txt", b"abc", "text/plain")
    theirs = await ac.create(async_client, bearer(other_user), "b.txt", b"abc", "text/plain")
    token = theirs["upload_descriptor"]["url"].split("?token=")[1]
    # Their signed token on my attachment, a forged one, none at all.
    for query in (f"?token={token}", "?token=forged", ""):
        url = f"/api/attachments/{mine['id']}/upload{query}"
        response = await ac.upload(async_client, url, b"abc", "a.txt", "text/plain")
        assert ac.error(response) == NOT_FOUND
    # My own link, from a browser signed in to the page as someone else.
    await async_client.aforce_login(other_user)
    url = mine["upload_descriptor"]["url"]
    response = await ac.upload(async_client, url, b"abc", "a.txt", "text/plain")
    assert ac.error(response) == NOT_FOUND
    assert not await AttachmentFile.objects.filter(status=Status.UPLOADED).aexists()


async def test_another_users_attachment_in_a_message_is_404_before_streaming(
    async_client, user, other_user, bearer
):
    theirs = await ac.attach(async_client, bearer(other_user), "secret.txt", b"s\n", "text/plain")
    response = await ac.chatkit(
        async_client, ac.create_thread_with("add these", [theirs["id"]]), bearer(user)
    )
    assert ac.error(response) == NOT_FOUND
    assert not await Thread.objects.aexists()

    # In an existing thread of mine too.
    events = await ac.turn(async_client, ac.create_thread_with("hi", []), bearer(user))
    response = await ac.chatkit(
        async_client,
        ac.add_message_with(events[0].thread.id, "hi", [theirs["id"]]),
        bearer(user),
    )
    assert ac.error(response) == NOT_FOUND


async def test_deleting_another_users_attachment_is_404(async_client, user, other_user, bearer):
    theirs = await ac.attach(async_client, bearer(other_user), "secret.txt", b"s\n", "text/plain")
    for attachment_id in (theirs["id"], "atc_missing"):
        response = await ac.chatkit(async_client, ac.delete_body(attachment_id), bearer(user))
        assert ac.error(response) == NOT_FOUND
    assert await AttachmentFile.objects.filter(pk=theirs["id"]).aexists()


async def test_names_are_sanitised(async_client, user, bearer):
    name = "../../etc/\x00pass<wd>\u202e.txt"
    attachment = await ac.create(async_client, bearer(user), name, b"abc", "text/plain")
    assert attachment["name"] == "pass_wd_.txt"
    row = await AttachmentFile.objects.aget()
    assert row.name == "pass_wd_.txt"


async def test_upload_and_preview_refuse_other_methods(async_client, user, bearer, png):
    attachment = await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    upload = await async_client.get(attachment["upload_descriptor"]["url"])
    assert ac.error(upload) == (HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")
    preview = await async_client.post(attachment["preview_url"])
    assert ac.error(preview) == (HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")


async def test_one_attachment_named_eleven_times_is_400_before_any_stream(
    async_client, user, bearer
):
    # Issue 20 #1: the ids were de-duplicated before counting, so one file named 200 times
    # passed the 10-per-message limit (and was read and sent 200 times).
    mine = await ac.attach(async_client, bearer(user), "notes.txt", b"milk\n", "text/plain")
    response = await ac.chatkit(
        async_client, ac.create_thread_with("add these", [mine["id"]] * 11), bearer(user)
    )
    assert ac.error(response) == BAD
    assert not await Thread.objects.aexists()

    # Ten names, the same file each time, is within the limit.
    events = await ac.turn(
        async_client, ac.create_thread_with("add these", [mine["id"]] * 10), bearer(user)
    )
    assert any(event.type == "thread.item.done" for event in events)


@pytest.mark.parametrize("how", ["save", "queryset update"])
async def test_signed_links_stop_when_their_user_is_deactivated(
    async_client, user, bearer, png, how
):
    # Issue 20 #9: preview and upload links are signed for a user and kept working
    # after that user was deactivated (for a day, for previews).
    image = await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    pending = await ac.create(async_client, bearer(user), "a.txt", b"abc", "text/plain")
    assert (await async_client.get(image["preview_url"])).status_code == HTTPStatus.OK

    if how == "save":
        user.is_active = False
        await user.asave()
    else:
        await User.objects.filter(pk=user.pk).aupdate(is_active=False)

    preview = await async_client.get(image["preview_url"])
    assert ac.error(preview) == NOT_FOUND
    url = pending["upload_descriptor"]["url"]
    upload = await ac.upload(async_client, url, b"abc", "a.txt", "text/plain")
    assert ac.error(upload) == NOT_FOUND
