"""No secrets in access logs: `token=` values (the name decoded as the server decodes
it, so `%74oken=` too), and any `cks_…` secret, percent-encoded or not, are redacted
from every access log the project's servers write:

- uvicorn: the `uvicorn.access` logger, and `uvicorn.error`, which logs websocket
  handshakes with their query string;
- runserver (daphne's): the `django.channels.server` logger;
- daphne: its access log is written to a stream, not through logging, so its
  writer (`daphne.access.AccessLogGenerator.write_entry`) is wrapped.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

# A query parameter: its name and value as logged (percent-encoded or not).
_PARAM = re.compile(r"(?P<lead>(?:^|[?&;\s])(?P<name>[^=&;\s?#\"']+)=)(?P<value>[^&\s\"']*)")
_SECRET = re.compile(r"cks_[A-Za-z0-9._:=-]+")
REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error", "django.channels.server", "daphne")


def _redact_param(match: re.Match[str]) -> str:
    # Decoded as the server decodes it: `?%74oken=%63ks_…` is a token too.
    name = unquote_plus(match["name"]).strip().lower()
    if name == "token" or "cks_" in unquote_plus(match["value"]):
        return match["lead"] + REDACTED
    return match[0]


def redact(text: str) -> str:
    """`text` without token values or ChatKit client secrets, however percent-encoded."""
    if "=" not in text and "cks_" not in text:
        return text
    return _SECRET.sub(REDACTED, _PARAM.sub(_redact_param, text))


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactTokensFilter(logging.Filter):
    """Rewrites a record's message and arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        return True


def install_access_log_redaction(*, patch_daphne: bool = True) -> None:
    """Idempotent: safe to call from every worker at start-up. `patch_daphne=False`
    (CHATKIT_FAST_PATHS=0) leaves daphne's class alone: its access log is then redacted
    by the stream `python -m config.daphne` gives it (config/daphne.py)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokensFilter) for f in logger.filters):
            logger.addFilter(RedactTokensFilter())
    if patch_daphne:
        _wrap_daphne_access_log()


def _wrap_daphne_access_log() -> None:
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # pragma: no cover - daphne is a dependency
        return
    write_entry = AccessLogGenerator.write_entry
    if getattr(write_entry, "redacts_tokens", False):
        return

    def redacting_write_entry(self: Any, *args: Any, **kwargs: Any) -> None:
        if "request" in kwargs:
            kwargs["request"] = _redact_value(kwargs["request"])
        return write_entry(self, *args, **kwargs)

    redacting_write_entry.redacts_tokens = True  # type: ignore[attr-defined]
    AccessLogGenerator.write_entry = redacting_write_entry  # type: ignore[method-assign]
