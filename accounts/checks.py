"""System checks for configurations that run but are not safe."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def is_local_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost")


@register()
def debug_with_real_better_auth(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """DEBUG=1 against a real (non-local) Better Auth: a staging set-up left in dev mode."""
    url = settings.BETTER_AUTH["URL"]
    if settings.DEBUG and url and not is_local_url(url):
        return [
            Warning(
                f"DJANGO_DEBUG=1 with BETTER_AUTH_URL={url}, which is not a local address.",
                hint="DEBUG shows tracebacks and settings to anyone who triggers an error. "
                "Set DJANGO_DEBUG=0 (with DJANGO_SECRET_KEY) for any real deployment.",
                id="accounts.W001",
            )
        ]
    return []
