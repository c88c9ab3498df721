"""Django itself: paths, debug, secret key, hosts, apps, middleware, templates, i18n."""

from __future__ import annotations

from pathlib import Path

from django.utils.functional import SimpleLazyObject
from dotenv import load_dotenv

from config.env import env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]
# Local state of a checkout (SQLite file, dev keys, uploads, collected static files);
# made when first needed (config/apps.py), never at import.
VAR_DIR = BASE_DIR / "var"

# A `.env` at the root is read too; real environment variables win.
load_dotenv(BASE_DIR / ".env", override=False)

DEBUG = env_bool("DJANGO_DEBUG", False)

# Required with DJANGO_DEBUG=0 (config/settings/production.py). In debug without one,
# a random key of this checkout's own, written under var/ on first use (never a
# public constant): config/dev_secret.py.
DEV_SECRET_KEY_PATH = Path(env_str("DEV_SECRET_KEY_PATH", str(VAR_DIR / "dev_secret_key")))


def _dev_secret_key() -> str:
    from config.dev_secret import dev_secret_key

    return dev_secret_key(DEV_SECRET_KEY_PATH)


SECRET_KEY = env_str("DJANGO_SECRET_KEY") or (SimpleLazyObject(_dev_secret_key) if DEBUG else None)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "daphne",  # first, so `runserver` is daphne's ASGI server
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "axes",
    "csp",
    "rest_framework",
    "channels",
    "config.apps.ProjectConfig",
    "accounts",
    "todos",
    "chat",
    "attachments",
    "usage",
    "runs",
]

# One switch for every shortcut that leans on a library's private API (the /chatkit
# fast path, our async pool and cache calls, the daphne patches, WhiteNoise's and
# django-csp's internals): `0` leaves stock Django, psycopg_pool and Django's cache,
# slower but within SPEC (docs/performance.md, "Shortcuts on private APIs").
CHATKIT_FAST_PATHS = env_bool("CHATKIT_FAST_PATHS", True)

MIDDLEWARE = [
    # Serves /chatkit with the header-only hooks inline, no thread hops (config/fastpath.py).
    *(["config.fastpath.ChatKitFastPathMiddleware"] if CHATKIT_FAST_PATHS else []),
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise kept async-capable (config/middleware.py), or as its docs install it.
    "config.middleware.StaticFilesMiddleware"
    if CHATKIT_FAST_PATHS
    else "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware"
    if CHATKIT_FAST_PATHS
    else "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
