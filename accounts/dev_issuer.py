"""Dev issuer: Better-Auth-shaped EdDSA tokens signed with a key under var/.

Used only without BETTER_AUTH_URL (development, demos). Tokens are verified by
the same `accounts.jwt` code path as real Better Auth tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _key_path() -> Path:
    return Path(settings.BETTER_AUTH["DEV_KEY_PATH"])


def private_key() -> Ed25519PrivateKey:
    """Load the dev key, creating it (mode 0600) on first use."""
    path = _key_path()
    if not path.exists():
        _create_key_file(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{path} does not hold an Ed25519 private key.")
    return key


def _create_key_file(path: Path) -> None:
    # Written whole to a private temp file, then hard-linked into place: the
    # link fails if another process got there first, so nobody ever reads a
    # half-written key and the first key wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".devkey-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        with contextlib.suppress(FileExistsError):
            os.link(tmp_name, path)
    finally:
        os.unlink(tmp_name)


def _public_jwk() -> dict[str, Any]:
    public = private_key().public_key()
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk.update({"kid": "dev-" + hashlib.sha256(raw).hexdigest()[:16], "alg": "EdDSA", "use": "sig"})
    return jwk


def jwks() -> dict[str, Any]:
    """The dev issuer's JWKS document (its one public key)."""
    return {"keys": [_public_jwk()]}


def sub_for_email(email: str) -> str:
    """The dev `sub` of an email."""
    # Stable per email, so the same person keeps their todos across tokens.
    return "dev_" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def issue_token(
    email: str, *, name: str | None = None, ttl: int = 900, sub: str | None = None
) -> str:
    """A token shaped like Better Auth's JWT plugin output (user object + sub, iat, exp)."""
    issuer = settings.BETTER_AUTH["ISSUER"]
    audience = settings.BETTER_AUTH["AUDIENCE"]
    now = int(time.time())
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    sub = sub or sub_for_email(email)
    claims = {
        "id": sub,
        "email": email,
        "name": name or email.split("@")[0],
        "emailVerified": True,
        "image": None,
        "createdAt": stamp,
        "updatedAt": stamp,
        "sub": sub,
        "iat": now,
        "exp": now + ttl,
        "iss": issuer,
        "aud": audience,
    }
    return jwt.encode(
        claims, private_key(), algorithm="EdDSA", headers={"kid": _public_jwk()["kid"]}
    )
