"""SPEC "Revocation": password sign-in (page and admin) is throttled by django-axes:
10 failures for one username from one address within 15 minutes lock that pair
out for 15 minutes, even with the right password."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-1"
FORMS = {"page": "/accounts/login/", "admin": "/admin/login/"}


def sign_in(path: str, username: str, password: str, address: str = "203.0.113.7") -> int:
    client = Client(REMOTE_ADDR=address)
    response = client.post(path, {"username": username, "password": password})
    return response.status_code


@pytest.fixture
def admin_user():
    user = UserFactory(username="boss", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.mark.parametrize("form", FORMS)
def test_ten_failures_lock_the_username_and_address_even_with_the_right_password(form, admin_user):
    path = FORMS[form]
    assert sign_in(path, "boss", PASSWORD) == HTTPStatus.FOUND  # works before
    for _ in range(9):
        assert sign_in(path, "boss", "wrong") == HTTPStatus.OK  # the form again, with an error
    assert sign_in(path, "boss", "wrong") == HTTPStatus.TOO_MANY_REQUESTS  # the 10th locks

    assert sign_in(path, "boss", PASSWORD) == HTTPStatus.TOO_MANY_REQUESTS
    # The lock is for that pair: the same user from elsewhere, and others, still sign in.
    assert sign_in(path, "boss", PASSWORD, address="198.51.100.1") == HTTPStatus.FOUND
    other = UserFactory(username="other", is_staff=True)
    other.set_password(PASSWORD)
    other.save()
    assert sign_in(path, "other", PASSWORD) == HTTPStatus.FOUND


def test_nine_failures_then_the_right_password_signs_in(admin_user):
    for _ in range(9):
        sign_in(FORMS["page"], "boss", "wrong")
    assert sign_in(FORMS["page"], "boss", PASSWORD) == HTTPStatus.FOUND


@pytest.mark.parametrize(("minutes_ago", "locked"), [(14, True), (16, False)])
def test_the_lock_lasts_15_minutes(admin_user, minutes_ago, locked):
    for _ in range(10):
        sign_in(FORMS["admin"], "boss", "wrong")
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - datetime.timedelta(minutes=minutes_ago)
    )
    expected = HTTPStatus.TOO_MANY_REQUESTS if locked else HTTPStatus.FOUND
    assert sign_in(FORMS["admin"], "boss", PASSWORD) == expected
