import logging
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.test import AsyncClient

from config.middleware import StaticFilesMiddleware


def test_the_middleware_chain_has_no_thread_hops(settings, caplog):
    # One sync-only middleware would push every request through thread hops: Django
    # adapts the handlers around it, and says so on the django.request logger (in DEBUG).
    settings.DEBUG = True
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()  # builds the async chain from settings.MIDDLEWARE
    adapted = [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]
    assert adapted == []


def test_the_static_middleware_also_serves_a_sync_chain(settings, rf):
    settings.WHITENOISE_AUTOREFRESH = settings.WHITENOISE_USE_FINDERS = True
    middleware = StaticFilesMiddleware(lambda request: HttpResponse("from the view"))
    css = middleware(rf.get("/static/css/app.css"))
    assert css.status_code == HTTPStatus.OK
    assert b"".join(css.streaming_content) == Path(finders.find("css/app.css")).read_bytes()
    assert middleware(rf.get("/api/todos/")).content == b"from the view"


@pytest.mark.django_db(transaction=True)
async def test_static_files_are_served_under_asgi_and_other_paths_fall_through(settings):
    # As under runserver: files come from the finders, not from collectstatic's output
    # (pytest-django turns DEBUG off, which would make WhiteNoise read STATIC_ROOT only).
    settings.WHITENOISE_AUTOREFRESH = settings.WHITENOISE_USE_FINDERS = True
    client = AsyncClient()
    css = await client.get("/static/css/app.css")
    assert css.status_code == HTTPStatus.OK
    assert css.getvalue()  # the file itself
    missing = await client.get("/static/nope.css")
    assert missing.status_code == HTTPStatus.NOT_FOUND
    health = await client.get("/healthz")
    assert health.json() == {"status": "ok"}
