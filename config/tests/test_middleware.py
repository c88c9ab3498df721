from http import HTTPStatus

import pytest
from django.test import AsyncClient

from config.middleware import StaticFilesMiddleware


def test_the_static_middleware_is_async_capable():
    # One sync-only middleware would push every request through thread hops.
    assert StaticFilesMiddleware.async_capable and StaticFilesMiddleware.sync_capable


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
