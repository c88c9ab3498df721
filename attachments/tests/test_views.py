"""The preview link: the owner's image, served so that nothing uploaded can run as a page."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from attachments import links
from attachments.tests import client as ac
from attachments.tests.conftest import stored_files
from chat.models import ThreadItem
from chat.tests import chatkit_client as ck

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_preview_is_served_with_safe_headers(async_client, user, bearer, png):
    attachment = await ac.attach(async_client, bearer(user), "cat <1>.png", png, "image/png")

    response = await async_client.get(attachment["preview_url"])

    assert response.status_code == HTTPStatus.OK
    assert b"".join(response.streaming_content) == png
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="cat _1_.png"'
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert response["Cache-Control"].startswith("private")


async def test_the_preview_is_for_its_owner_only(async_client, user, other_user, bearer, png):
    attachment = await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    theirs = await ac.attach(async_client, bearer(other_user), "q.png", png, "image/png")
    their_token = theirs["preview_url"].split("?token=")[1]
    base = f"/api/attachments/{attachment['id']}/preview"

    for url in (f"{base}?token={their_token}", f"{base}?token=forged", base):
        response = await async_client.get(url)
        assert ac.error(response) == (HTTPStatus.NOT_FOUND, "not_found")

    # The owner's own link, opened in a browser signed in as someone else.
    await async_client.aforce_login(other_user)
    response = await async_client.get(attachment["preview_url"])
    assert response.status_code == HTTPStatus.NOT_FOUND
    await async_client.aforce_login(user)
    response = await async_client.get(attachment["preview_url"])
    assert response.status_code == HTTPStatus.OK


async def test_an_expired_preview_link_is_404(async_client, user, bearer, png, limits):
    attachment = await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    link = attachment["preview_url"]
    fresh = await async_client.get(link)
    assert fresh.status_code == HTTPStatus.OK
    assert b"".join(fresh.streaming_content) == png

    limits(PREVIEW_URL_TTL=-1)  # the same link, now past its lifetime
    assert ac.error(await async_client.get(link)) == (HTTPStatus.NOT_FOUND, "not_found")


async def test_files_have_no_preview_and_pending_images_none_yet(async_client, user, bearer, png):
    text = await ac.attach(async_client, bearer(user), "a.txt", b"hi\n", "text/plain")
    assert "preview_url" not in text
    token = links.sign("preview", attachment_id=text["id"], user_id=user.pk)
    response = await async_client.get(f"/api/attachments/{text['id']}/preview?token={token}")
    assert response.status_code == HTTPStatus.NOT_FOUND

    pending = await ac.create(async_client, bearer(user), "p.png", png, "image/png")
    response = await async_client.get(pending["preview_url"])
    assert response.status_code == HTTPStatus.NOT_FOUND


async def test_listing_items_hands_out_fresh_preview_links(async_client, user, bearer, png):
    headers = bearer(user)
    image = await ac.attach(async_client, headers, "p.png", png, "image/png")
    events = await ac.turn(async_client, ac.create_thread_with("look", [image["id"]]), headers)
    # The link stored with the message has long expired.
    row = await ThreadItem.objects.aget(item_id=events[1].item.id)
    row.data["attachments"][0]["preview_url"] = "http://testserver/expired"
    await row.asave()

    listed = await ac.chatkit(async_client, ck.list_items(events[0].thread.id), headers)

    fresh = listed.json()["data"][0]["attachments"][0]["preview_url"]
    assert fresh.startswith(f"http://testserver/api/attachments/{image['id']}/preview?token=")
    response = await async_client.get(fresh)
    assert response.status_code == HTTPStatus.OK


async def test_bytes_lost_from_storage_are_404_not_500(
    async_client, user, bearer, png, attachments_dir
):
    image = await ac.attach(async_client, bearer(user), "p.png", png, "image/png")
    for path in stored_files(attachments_dir):
        path.unlink()
    response = await async_client.get(image["preview_url"])
    assert response.status_code == HTTPStatus.NOT_FOUND

    events = await ac.turn(async_client, ac.create_thread_with("hi", [image["id"]]), bearer(user))
    assert "“p.png”" in ck.assistant_text(events)  # the turn still works
