"""Signing in: Better Auth JWTs (accounts/jwt.py), Django's session login for the
built-in page and admin, django-axes lockouts, DRF's authentication."""

from __future__ import annotations

import datetime
from pathlib import Path
from urllib.parse import urlsplit

from config.env import env_list, env_str, env_url
from config.settings.base import DEBUG, VAR_DIR


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Required with DJANGO_DEBUG=0 (config/settings/production.py).
BETTER_AUTH_URL = (env_url("BETTER_AUTH_URL") or "").rstrip("/") or None

# Without BETTER_AUTH_URL the dev issuer signs tokens with a key under var/
# (`manage.py issue_dev_token`); they are verified by the same code path.
DEV_ISSUER = "http://localhost:8000"
_ORIGIN = origin(BETTER_AUTH_URL) if BETTER_AUTH_URL else DEV_ISSUER
BETTER_AUTH = {
    "URL": BETTER_AUTH_URL,
    "JWKS_URL": env_url("BETTER_AUTH_JWKS_URL")
    or (f"{BETTER_AUTH_URL}/api/auth/jwks" if BETTER_AUTH_URL else None),
    "ISSUER": env_str("BETTER_AUTH_ISSUER") or _ORIGIN,
    "AUDIENCE": env_str("BETTER_AUTH_AUDIENCE") or _ORIGIN,
    "ALGORITHMS": ["EdDSA", "ES256", "ES512", "RS256", "PS256"],
    "LEEWAY_SECONDS": 30,
    # How long fetched keys are trusted before the next verification refetches
    # them, and the least time between two fetches caused by an unknown `kid`.
    "JWKS_TTL_SECONDS": 300,
    "JWKS_MIN_REFETCH_SECONDS": 30,
    "JWKS_TIMEOUT_SECONDS": 5,
    "MAX_TOKEN_BYTES": 8192,
    "DEV_KEY_PATH": Path(env_str("DEV_JWT_KEY_PATH", str(VAR_DIR / "dev_jwt_ed25519.pem"))),
}

AUTH_USER_MODEL = "accounts.User"
# The database's sessions; discarding a signed-in one revokes its ChatKit secrets.
SESSION_ENGINE = "accounts.session_store"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: a locked-out sign-in is refused before any password hashing.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# SPEC "Revocation": 10 failures for one username from one address within 15
# minutes lock that pair out for 15 minutes, even with the right password. The
# attempts are rows in the database, so every worker shares them.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # lockouts are still logged; every sign-in is not
# The address is the connection's, or the one a trusted proxy forwarded (config/proxy.py,
# the same under daphne and uvicorn): a client cannot pick a fresh address per attempt
# with a header.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Proxies whose X-Forwarded-For is believed (addresses or networks, comma list), e.g. the
# nginx in front of the workers. Unset: the header is never read.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BetterAuthJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "todos.pagination.TodoPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "EXCEPTION_HANDLER": "config.errors.drf_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
