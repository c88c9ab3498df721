"""Django settings: where the app's configuration is read from the environment (see
SPEC.md). Outside it only seed_demo (its one-off passwords) and the metrics' multiprocess
directory (read by prometheus-client itself too) look at the environment."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# A `.env` at the root is read too; real environment variables win.
load_dotenv(BASE_DIR / ".env", override=False)


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in (env(name, default) or "").split(",") if part.strip()]


def env_int(name: str, default: int) -> int:
    value = env(name)
    try:
        return int(value) if value is not None else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from exc


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (and BETTER_AUTH_URL) for production, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = None  # a random key of this machine's own, below


def _dev_secret_key(path: Path) -> str:
    """A random key made once per checkout and kept under var/ (never a public constant)."""
    import secrets

    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if len(key) < 50:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
    return key


if SECRET_KEY is None:
    SECRET_KEY = _dev_secret_key(Path(env("DEV_SECRET_KEY_PATH", str(VAR_DIR / "dev_secret_key"))))

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

# --- Better Auth -------------------------------------------------------------
BETTER_AUTH_URL = (env("BETTER_AUTH_URL") or "").rstrip("/") or None
if BETTER_AUTH_URL is None and not DEBUG:
    raise ImproperlyConfigured(
        "BETTER_AUTH_URL is not set. With DJANGO_DEBUG=0 the app only accepts tokens "
        "from a real Better Auth server; set BETTER_AUTH_URL (e.g. https://auth.example.com)."
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Without BETTER_AUTH_URL the dev issuer signs tokens with a key under var/
# (`manage.py issue_dev_token`); they are verified by the same code path.
DEV_ISSUER = "http://localhost:8000"
BETTER_AUTH = {
    "URL": BETTER_AUTH_URL,
    "JWKS_URL": env("BETTER_AUTH_JWKS_URL")
    or (f"{BETTER_AUTH_URL}/api/auth/jwks" if BETTER_AUTH_URL else None),
    "ISSUER": env("BETTER_AUTH_ISSUER")
    or (_origin(BETTER_AUTH_URL) if BETTER_AUTH_URL else DEV_ISSUER),
    "AUDIENCE": env("BETTER_AUTH_AUDIENCE")
    or (_origin(BETTER_AUTH_URL) if BETTER_AUTH_URL else DEV_ISSUER),
    "ALGORITHMS": ["EdDSA", "ES256", "ES512", "RS256", "PS256"],
    "LEEWAY_SECONDS": 30,
    # How long fetched keys are trusted before the next verification refetches them
    # (inline, on that request), and the least time between two fetches caused by an
    # unknown `kid`.
    "JWKS_TTL_SECONDS": 300,
    "JWKS_MIN_REFETCH_SECONDS": 30,
    "JWKS_TIMEOUT_SECONDS": 5,
    "MAX_TOKEN_BYTES": 8192,
    "DEV_KEY_PATH": Path(env("DEV_JWT_KEY_PATH", str(VAR_DIR / "dev_jwt_ed25519.pem"))),
}

# --- ChatKit -----------------------------------------------------------------
# Models a client may pick (inference_options.model); the first is the default.
_CHATKIT_MODELS = env_list("CHATKIT_MODELS")
CHATKIT = {
    "OPENAI_API_KEY": env("OPENAI_API_KEY"),
    "OPENAI_BASE_URL": env("OPENAI_BASE_URL"),
    "MODEL": _CHATKIT_MODELS[0] if _CHATKIT_MODELS else env("CHATKIT_MODEL", "gpt-4.1-mini"),
    # Empty: MODEL alone (chat/inference.py).
    "MODELS": _CHATKIT_MODELS,
    # The small model that titles a thread after its first answer (chat/titles.py).
    "TITLE_MODEL": env("CHATKIT_TITLE_MODEL", "gpt-4.1-nano"),
    "MODEL_TIMEOUT_SECONDS": float(env("CHATKIT_MODEL_TIMEOUT_SECONDS", "60") or 60),
    "OFFLINE_TOKEN_DELAY_MS": env_int("CHATKIT_OFFLINE_TOKEN_DELAY_MS", 0),
    "SESSION_TTL": env_int("CHATKIT_SESSION_TTL", 600),
    "RATE_LIMIT": env("CHATKIT_RATE_LIMIT", "30/minute"),
    "THREAD_RETENTION_DAYS": env_int("CHATKIT_THREAD_RETENTION_DAYS", 30),
    "MAX_BODY_BYTES": env_int("CHATKIT_MAX_BODY_BYTES", 1048576),
    "MAX_MESSAGE_CHARS": env_int("CHATKIT_MAX_MESSAGE_CHARS", 8000),
    # What one turn sends to the model (chat/budget.py): history is trimmed,
    # oldest first, to this many characters of model input, and each tool
    # output or context note is cut to TOOL_OUTPUT_MAX_CHARS.
    "MODEL_INPUT_BUDGET_CHARS": env_int("CHATKIT_MODEL_INPUT_BUDGET_CHARS", 60000),
    "TOOL_OUTPUT_MAX_CHARS": env_int("CHATKIT_TOOL_OUTPUT_MAX_CHARS", 8000),
    # Largest `limit` of a ChatKit list request (threads.list, items.list).
    "MAX_PAGE_SIZE": 100,
    # Items of recent history sent to the model on each turn.
    "HISTORY_ITEMS": 30,
    # On PostgreSQL, a turn's thread/history read and item writes use psycopg's async
    # connections instead of the ORM in a worker thread (chat/pgstore.py).
    "ASYNC_DATABASE": env_bool("CHATKIT_ASYNC_DATABASE", True),
    "DOMAIN_KEY": env("CHATKIT_DOMAIN_KEY", "domain_pk_localhost_dev"),
    # An SSE comment after this many seconds of silence keeps proxies from cutting
    # a turn while the model thinks (chat/heartbeat.py); 0 turns it off.
    "HEARTBEAT_SECONDS": float(env("CHATKIT_HEARTBEAT_SECONDS", "15") or 15),
    # A client that disconnects stops its turn (the SDK's behaviour); by default a
    # turn runs to its end in a task of the worker (runs/registry.py).
    "STOP_ON_DISCONNECT": env_bool("CHATKIT_STOP_ON_DISCONNECT", False),
}
# --- Usage, budgets, metrics (usage/) ---------------------------------------------
# Dollars per million tokens; CHATKIT_PRICES (JSON, same shape) adds or replaces models.
# A turn's cost is computed when it ends and stored with it.
_DEFAULT_PRICES = {
    "gpt-4.1": {"input": 2.00, "cached_input": 0.50, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "cached_input": 0.10, "output": 1.60},
    "gpt-4.1-nano": {"input": 0.10, "cached_input": 0.025, "output": 0.40},
    "gpt-4o": {"input": 2.50, "cached_input": 1.25, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
    "offline": {"input": 0, "cached_input": 0, "output": 0},
}


def _prices() -> dict[str, dict[str, float]]:
    import json

    raw = env("CHATKIT_PRICES")
    if raw is None:
        return _DEFAULT_PRICES
    try:
        extra = json.loads(raw)
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise ValueError("not an object of objects")
    except ValueError as exc:
        raise ImproperlyConfigured(
            'CHATKIT_PRICES must be JSON like {"model": {"input": 0.4, "cached_input": 0.1, '
            f'"output": 1.6}}}} (dollars per million tokens): {exc}'
        ) from exc
    return {**_DEFAULT_PRICES, **extra}


_daily_tokens = env("CHATKIT_USER_DAILY_TOKENS")
USAGE = {
    "PRICES": _prices(),
    # Model tokens (input + output) one user may spend per UTC day; None: no budget.
    "DAILY_TOKENS": env_int("CHATKIT_USER_DAILY_TOKENS", 0) if _daily_tokens else None,
    # What a turn holds of the budget while it runs, until its real tokens are known
    # (at least this, or the user's last turn if that was bigger): usage/quota.py.
    "TURN_RESERVE_TOKENS": env_int("CHATKIT_TURN_RESERVE_TOKENS", 4000),
    # Bearer token of GET /metrics; None: /metrics answers 404.
    "METRICS_TOKEN": env("METRICS_TOKEN"),
}

# The ChatKit web component's script; the built-in page falls back to its own
# client when it cannot load (offline, blocked). Tests point it at a stub.
CHATKIT_JS_URL = env(
    "CHATKIT_JS_URL", "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
)

# Every body over CHATKIT_MAX_BODY_BYTES is 413 before Django reads it
# (config/body_limit.py); endpoints that take bigger bodies (uploads) raise it
# here by path prefix. Django's own cap must not be lower.
BODY_LIMIT_OVERRIDES: dict[str, int] = {}
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, CHATKIT["MAX_BODY_BYTES"])

# --- Apps --------------------------------------------------------------------
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
    "accounts",
    "todos",
    "chat",
    "attachments",
    "usage",
    "runs",
]

MIDDLEWARE = [
    # Serves /chatkit with the header-only hooks inline, no thread hops (config/fastpath.py).
    "config.fastpath.ChatKitFastPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.StaticFilesMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
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

# --- Database ----------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Async views hop between threads: a persistent connection per thread
        # would leak, so connections go back (to the pool) after each request.
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A bounded pool per worker: chat streams hand their connection back while the
    # model talks (config/db.py), so a few connections serve hundreds of streams.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env_int("DATABASE_POOL_SIZE", 20),
        "timeout": 30,  # waiting for a free connection is queueing, not an error
    }
    # Parameters sent apart from the SQL (no quoting in Python), and statements run 5+
    # times prepared once per connection: -10 ms CPU per chat turn (docs/performance.md).
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL and a busy timeout let the chat stream and the REST API write
            # concurrently without "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# A suffix keeps parallel test runs (and their server processes) apart.
_TEST_DB_SUFFIX = env("TEST_DB_SUFFIX", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: server processes started by tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db{_TEST_DB_SUFFIX}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}{_TEST_DB_SUFFIX}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer ----------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "todo-chatkit"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # Redis pub/sub: one PUBLISH per change, fanned out in each worker's memory to its
    # sockets, one subscriber connection per worker (docs/performance.md, "Live sockets").
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env("CHANNELS_PREFIX", "todo-chatkit"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
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

# --- CORS ------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(chatkit|api/).*$"
from corsheaders.defaults import default_headers

CORS_ALLOW_HEADERS = (*default_headers, "chatkit-frame-instance-id")
# Cross-origin apps must be able to read how long a 429 asks them to wait.
CORS_EXPOSE_HEADERS = ["Retry-After"]
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS

# --- i18n, static ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# GZip stays off: it would buffer the /chatkit event stream.

# --- Attachments -------------------------------------------------------------------
# Bytes go through the storage alias "attachments": files under var/ by default;
# point its BACKEND at django-storages (e.g. "storages.backends.s3.S3Storage", with its own
# OPTIONS) in production. On disk, only the app's own user can read them (0600, dirs 0700).
STORAGES["attachments"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {
        "location": env("ATTACHMENTS_DIR", str(VAR_DIR / "attachments")),
        "file_permissions_mode": 0o600,
        "directory_permissions_mode": 0o700,
    },
}
ATTACHMENTS = {
    "MAX_BYTES": env_int("CHATKIT_ATTACHMENT_MAX_BYTES", 10485760),
    "QUOTA_BYTES": env_int("CHATKIT_ATTACHMENT_QUOTA_BYTES", 104857600),
    "UPLOAD_URL_TTL": env_int("CHATKIT_ATTACHMENT_UPLOAD_TTL", 900),  # seconds
    "PREVIEW_URL_TTL": env_int("CHATKIT_ATTACHMENT_PREVIEW_TTL", 86400),  # seconds
    "ORPHAN_HOURS": 24,  # created, never sent: purge_threads removes them after this
    "MODEL_TEXT_CHARS": 20000,  # text of one file the model is shown, at most
    "TRANSCRIBE_MODEL": env("CHATKIT_TRANSCRIBE_MODEL", "gpt-4o-mini-transcribe"),
    # Links are built on the request's host; this only when there is no request.
    "FALLBACK_BASE_URL": "http://localhost:8000/",
}
# Uploads are bigger than other bodies (the ASGI body guard, config/body_limit.py):
# a file plus its multipart envelope.
BODY_LIMIT_OVERRIDES = {
    **globals().get("BODY_LIMIT_OVERRIDES", {}),
    "/api/attachments/": ATTACHMENTS["MAX_BYTES"] + 65536,
}

# --- Security (production) --------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy (django-csp, via config.middleware): our own scripts and
# styles, plus what OpenAI's ChatKit component needs from its CDN origin (its
# script, the frame it renders in, and that frame's assets). Styles allow inline:
# the component sets them at run time. Nothing inline runs as script.
_CHATKIT_ORIGIN = _origin(CHATKIT_JS_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, _CHATKIT_ORIGIN],
        "style-src": [SELF, UNSAFE_INLINE, _CHATKIT_ORIGIN],
        "img-src": [SELF, "data:", "blob:", _CHATKIT_ORIGIN],
        "font-src": [SELF, "data:", _CHATKIT_ORIGIN],
        "connect-src": [SELF, _CHATKIT_ORIGIN, "https://api.openai.com"],
        "frame-src": [_CHATKIT_ORIGIN],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

# --- Logging -----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Never log request headers (they carry bearer tokens).
        "django.request": {"level": "ERROR"},
        "httpx": {"level": "WARNING"},
        "openai.agents": {"level": "WARNING"},
        # runserver prints its own access log line; don't print it twice.
        "django.channels.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
