"""Attachment admin: owner, size and type per row, no query per row; deleting removes bytes."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attachments.models import AttachmentFile
from attachments.tests.conftest import png_bytes, stored_files
from attachments.tests.factories import uploaded_attachment
from chat.models import Attachment as ChatAttachment

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
