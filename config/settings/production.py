"""With DJANGO_DEBUG=0: refuse to start without the secrets a real deployment needs,
and turn on HTTPS-only cookies, redirects and HSTS."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int
from config.settings.auth import BETTER_AUTH_URL
from config.settings.base import DEBUG, SECRET_KEY

if not DEBUG:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (and BETTER_AUTH_URL) for production, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    if BETTER_AUTH_URL is None:
        raise ImproperlyConfigured(
            "BETTER_AUTH_URL is not set. With DJANGO_DEBUG=0 the app only accepts tokens "
            "from a real Better Auth server; set BETTER_AUTH_URL (e.g. https://auth.example.com)."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
