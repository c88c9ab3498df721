"""Logging: lines to the console, plain or JSON; never request headers (they carry tokens).

LOG_FORMAT=json: one JSON object per line, with the request id, user, thread and turn
outcome of the request that caused it (config/logcontext.py). A user's message text is
never logged unless LOG_MESSAGE_TEXT=1.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_str

LOG_FORMAT = (env_str("LOG_FORMAT", "plain") or "plain").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}.")
LOG_MESSAGE_TEXT = env_bool("LOG_MESSAGE_TEXT", False)
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "config.logcontext.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "config.logcontext.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # With JSON logs, the server's own lines are JSON too.
        **(
            {name: {"handlers": ["console"], "propagate": False} for name in _SERVER_LOGGERS}
            if LOG_FORMAT == "json"
            else {}
        ),
        # Never log request headers (they carry bearer tokens).
        "django.request": {"level": "ERROR"},
        "httpx": {"level": "WARNING"},
        "openai.agents": {"level": "WARNING"},
        # runserver prints its own access log line; don't print it twice.
        "django.channels.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
