"""Attachment admin: owner, size and type per row, no query per row; deleting removes bytes."""

from __future__ import annotations

import datetime
import io
from http import HTTPStatus

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attachments import services
from attachments.models import Attachment as ChatAttachment
from attachments.models import AttachmentFile
from attachments.tests.conftest import png_bytes, stored_files
from attachments.tests.factories import uploaded_attachment
from chat.tests.factories import ThreadFactory
from config.exceptions import BadRequest

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = reverse("admin:attachments_attachmentfile_changelist")


def test_changelist_shows_owner_size_and_type(admin_client, user, other_user):
    uploaded_attachment(user, "shopping.png", png_bytes(), "image/png")
    uploaded_attachment(other_user, "plan.txt", b"x" * 2048)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    for text in ("shopping.png", "image/png", user.email, "plan.txt", "2.0\xa0KB", "(not sent)"):
        assert text in content


def test_changelist_costs_the_same_queries_for_2_and_12_attachments(admin_client, user):
    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CHANGELIST).status_code == HTTPStatus.OK
        return len(queries)

    for _ in range(2):
        uploaded_attachment(user)
    small = queries_for_listing()
    for _ in range(10):
        uploaded_attachment(user)
    assert queries_for_listing() == small


def test_deleting_in_the_admin_removes_bytes_and_chatkit_rows(admin_client, user, attachments_dir):
    first, second = uploaded_attachment(user), uploaded_attachment(user, data=b"eggs\n")

    response = admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [first.pk], "post": "yes"},
    )
    assert response.status_code == HTTPStatus.FOUND
    delete_url = reverse("admin:attachments_attachmentfile_delete", args=[quote(second.pk)])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == HTTPStatus.FOUND

    # Rows first: when bytes are left behind, this tells a row that stayed from bytes that did.
    assert list(AttachmentFile.objects.values_list("pk", flat=True)) == []
    assert not ChatAttachment.objects.exists()
    assert stored_files(attachments_dir) == []


def _change_url(file: AttachmentFile) -> str:
    return reverse("admin:attachments_attachmentfile_change", args=[quote(file.pk)])


def _file_url(file: AttachmentFile) -> str:
    return reverse("admin:attachments_attachmentfile_file", args=[quote(file.pk)])


def test_an_image_has_a_preview_and_a_download_that_cannot_act_as_a_page(admin_client, user):
    data = png_bytes()
    image = uploaded_attachment(user, "shopping.png", data, "image/png")

    page = admin_client.get(_change_url(image)).content.decode()
    download = admin_client.get(_file_url(image))
    shown = admin_client.get(_file_url(image) + "?inline=1")

    assert f'<img src="{_file_url(image)}?inline=1"' in page
    assert f'href="{_file_url(image)}" download' in page
    assert download.status_code == HTTPStatus.OK
    assert b"".join(download.streaming_content) == data
    assert download["Content-Disposition"].startswith("attachment;")
    assert shown["Content-Disposition"].startswith("inline;")
    for response in (download, shown):
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


def test_other_files_are_always_a_download(admin_client, user):
    page = uploaded_attachment(user, "page.txt", b"<script>alert(1)</script>\n", "text/plain")

    response = admin_client.get(_file_url(page) + "?inline=1")

    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "text/plain"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "<img" not in admin_client.get(_change_url(page)).content.decode()


def test_files_are_for_staff_only(client, user, django_user_model):
    file = uploaded_attachment(user)
    assert client.get(_file_url(file)).status_code == HTTPStatus.FOUND  # to the admin login
    client.force_login(user)  # the owner, not staff
    assert client.get(_file_url(file)).status_code == HTTPStatus.FOUND
    staff = django_user_model.objects.create_user("clerk", password="x-123456", is_staff=True)
    client.force_login(staff)  # staff without the view permission: refused (404, as every 403)
    response = client.get(_file_url(file))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Content-Disposition" not in response
    staff.user_permissions.add(Permission.objects.get(codename="view_attachmentfile"))
    assert client.get(_file_url(file)).status_code == HTTPStatus.OK


def test_the_thread_is_a_link_to_it(admin_client, user):
    thread = ThreadFactory(owner=user, title="Groceries")
    file = uploaded_attachment(user)
    ChatAttachment.objects.filter(pk=file.pk).update(thread=thread)

    content = admin_client.get(CHANGELIST).content.decode()

    thread_url = reverse("admin:chat_thread_change", args=[quote(thread.pk)])
    assert f'<a href="{thread_url}">Groceries</a>' in content


def test_a_rejected_or_abandoned_upload_says_so(admin_client, user):
    announced = services.attachment_create(
        user=user, attachment_id="atc_rejected", name="cat.png", size=20,
        mime_type="image/png", base_url="http://testserver/",
    )  # fmt: skip
    token = str(announced.upload_descriptor.url).split("?token=")[1]
    with pytest.raises(BadRequest):
        services.attachment_upload(
            attachment_id="atc_rejected", token=token, content=io.BytesIO(b"not a png"), size=9
        )
    waiting = services.attachment_create(
        user=user, attachment_id="atc_waiting", name="w.txt", size=3,
        mime_type="text/plain", base_url="http://testserver/",
    )  # fmt: skip
    services.attachment_create(
        user=user, attachment_id="atc_expired", name="old.txt", size=3,
        mime_type="text/plain", base_url="http://testserver/",
    )  # fmt: skip
    AttachmentFile.objects.filter(pk="atc_expired").update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )

    content = admin_client.get(CHANGELIST).content.decode()

    assert "Rejected: The file&#x27;s content is not image/png." in content
    assert "Never uploaded (its upload link expired)" in content
    # atc_waiting only (the status filter has the words too)
    assert content.count('<td class="field-state">Waiting for upload</td>') == 1
    assert waiting.id == "atc_waiting"
