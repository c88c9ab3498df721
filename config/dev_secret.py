"""The development secret key: random, made once per checkout and kept under var/
(never a public constant). Read on first use of SECRET_KEY, not at import."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_CHARS = 50


def dev_secret_key(path: Path) -> str:
    """The key kept at `path`, written there (owner-only) if missing or short."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if len(key) < MIN_CHARS:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(MIN_CHARS)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
    return key
