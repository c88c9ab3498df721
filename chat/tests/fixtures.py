"""Chat fixtures (pytest plugin): the Django store and request contexts for two users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from accounts.models import User
from chat.context import RequestContext
from chat.models import Thread
from chat.store import DjangoStore, wait_for_pending_writes
from chat.tests.factories import ThreadFactory
from chat.tests.fake_openai import FakeOpenAI, as_configured_model


@pytest.fixture
async def store() -> AsyncIterator[DjangoStore]:
    yield DjangoStore()
    await wait_for_pending_writes()  # no write may outlive its test


@pytest.fixture
def ctx(user: User) -> RequestContext:
    return RequestContext(user=user)


@pytest.fixture
def other_ctx(other_user: User) -> RequestContext:
    return RequestContext(user=other_user)


@pytest.fixture
def chat_thread(user: User) -> Thread:
    """A thread owned by `user`."""
    return ThreadFactory(owner=user)


@pytest.fixture
def other_thread(other_user: User) -> Thread:
    """A thread owned by `other_user`."""
    return ThreadFactory(owner=other_user)


@pytest.fixture
def cat_openai(settings) -> Iterator[FakeOpenAI]:
    """The configured model is OpenAI's, served by a local fake whose model adds "feed cat"."""
    with as_configured_model(settings, FakeOpenAI(todo_title="feed cat")) as fake:
        yield fake
