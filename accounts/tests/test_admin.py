"""The user admin renders and searches by Better Auth id."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_user_changelist_renders_better_auth_columns(staff_client, user):
    response = staff_client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert user.better_auth_id in content
    assert "Better auth id" in content


@pytest.mark.parametrize("field", ["email", "username", "better_auth_id"])
def test_user_search(staff_client, user, other_user, field):
    url = reverse("admin:accounts_user_changelist")

    response = staff_client.get(url, {"q": getattr(user, field)})

    assert response.status_code == HTTPStatus.OK
    result_ids = [row.pk for row in response.context["cl"].result_list]
    assert result_ids == [user.pk]


def test_user_change_page_renders(staff_client, user):
    response = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'name="better_auth_id"' in content
    assert 'name="name"' in content


def test_user_add_page_renders(staff_client):
    response = staff_client.get(reverse("admin:accounts_user_add"))

    assert response.status_code == HTTPStatus.OK
    assert 'name="username"' in response.content.decode()


def test_non_staff_is_sent_to_login(client, user):
    client.force_login(user)

    response = client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]
