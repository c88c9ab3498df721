"""Logging: plain lines to the console; never request headers (they carry tokens)."""

from __future__ import annotations

from config.env import env_str

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Never log request headers (they carry bearer tokens).
        "django.request": {"level": "ERROR"},
        "httpx": {"level": "WARNING"},
        "openai.agents": {"level": "WARNING"},
        # runserver prints its own access log line; don't print it twice.
        "django.channels.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
