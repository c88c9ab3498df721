"""The one place that reads the environment: typed readers that fail with a clear
`ImproperlyConfigured` naming the variable, its value and what was expected.

An unset or empty variable gives the default. Every variable read here is listed
in docs/configuration.md (config/tests/test_configuration_doc.py keeps them in step).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})
HOSTLESS_SCHEMES = frozenset({"sqlite", "unix"})


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value


def _fail(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name} must be {expected}, got {value!r}.")


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise _fail(name, value, "1 or 0 (also true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise _fail(name, value, "an integer") from exc


def env_float(name: str, default: float) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise _fail(name, value, "a number") from exc


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blanks between commas are dropped."""
    value = env_str(name, default) or ""
    return [part.strip() for part in value.split(",") if part.strip()]


def env_url(
    name: str, default: str | None = None, *, schemes: tuple[str, ...] = ("http", "https")
) -> str | None:
    """A URL with one of `schemes` and a host (`sqlite:///path`, `unix:///path` have none)."""
    value = env_str(name)
    if value is None:
        return default
    parts = urlsplit(value.strip())
    if parts.scheme not in schemes or not (parts.netloc or parts.scheme in HOSTLESS_SCHEMES):
        raise _fail(name, value, f"a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value.strip()
