"""Better Auth JWT verification against a cached JWKS.

We use PyJWT directly rather than simplejwt: Better Auth tokens are not
simplejwt access tokens (no `token_type`, no `jti`), simplejwt's backend is
built once at import around one key source, and we need full control over the
key cache (one rate-limited refetch on an unknown `kid`, stale keys kept while
the JWKS is down) plus a non-blocking path for async views.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
import jwt
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from config.exceptions import AuthError

logger = logging.getLogger(__name__)

# Which key types may carry which algorithms: blocks key-type confusion.
_KTY_FOR_ALG = {
    "EdDSA": {"OKP"},
    "ES256": {"EC"},
    "ES512": {"EC"},
    "RS256": {"RSA"},
    "PS256": {"RSA"},
}


@dataclass(frozen=True)
class PublishedKey:
    jwk: jwt.PyJWK
    declared_alg: str | None  # the JWK's own `alg`, when it states one


class JwksUnavailable(Exception):
    """The JWKS could not be fetched (network error, bad status, bad JSON)."""


class KeyFetchNeeded(Exception):
    """Raised on the non-blocking path when verifying needs a JWKS fetch."""


class JwksCache:
    """Keys by `kid`, refreshed after `ttl`; an unknown `kid` refetches at most
    once per `min_refetch` seconds; on fetch failure the old keys stay valid."""

    def __init__(
        self,
        fetch: Callable[[], dict[str, Any]],
        *,
        ttl: float,
        min_refetch: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._clock = clock
        self._keys: dict[str, PublishedKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, success or not
        self._lock = threading.Lock()

    def _due(self, kid: str) -> bool:
        now = self._clock()
        if self._attempted_at is not None and now - self._attempted_at < self._min_refetch:
            return False
        if self._fetched_at is None or now - self._fetched_at >= self._ttl:
            return True
        return kid not in self._keys

    def get(self, kid: str, *, allow_fetch: bool = True) -> PublishedKey | None:
        if kid in self._keys and not self._due(kid):
            return self._keys[kid]
        if not self._due(kid):
            return self._keys.get(kid)
        if not allow_fetch:
            raise KeyFetchNeeded
        with self._lock:
            if self._due(kid):
                self._refresh()
        return self._keys.get(kid)

    def _refresh(self) -> None:
        self._attempted_at = self._clock()
        try:
            document = self._fetch()
            keys = _parse_jwks(document)
        except JwksUnavailable as exc:
            # Keep serving the keys we have: a JWKS outage must not log everyone out.
            logger.warning("JWKS refresh failed, keeping %d cached keys: %s", len(self._keys), exc)
            return
        self._keys = keys
        self._fetched_at = self._attempted_at


def _parse_jwks(document: Any) -> dict[str, PublishedKey]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksUnavailable("JWKS document has no 'keys' list")
    keys: dict[str, PublishedKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        alg = entry.get("alg")
        if alg is not None and alg not in _KTY_FOR_ALG:
            continue
        try:
            keys[entry["kid"]] = PublishedKey(jwt.PyJWK(entry, algorithm=alg), alg)
        except jwt.PyJWTError:
            logger.warning("Skipping unusable JWKS key %s", entry.get("kid"))
    return keys


def http_jwks_fetcher(url: str, timeout: float) -> Callable[[], dict[str, Any]]:
    def fetch() -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=timeout, follow_redirects=False)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JwksUnavailable(f"{type(exc).__name__} fetching {url}") from exc

    return fetch


@dataclass(frozen=True)
class Claims:
    sub: str
    email: str
    name: str
    raw: dict[str, Any]


class TokenVerifier:
    """Checks signature, algorithm, `iss`, `aud`, `exp`, `nbf`, `iat` and `sub`."""

    def __init__(
        self,
        *,
        keys: JwksCache,
        issuer: str,
        audience: str,
        algorithms: list[str],
        leeway: int,
        max_token_bytes: int,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = [alg for alg in algorithms if alg in _KTY_FOR_ALG]
        self.leeway = leeway
        self.max_token_bytes = max_token_bytes

    def verify(self, token: str, *, allow_fetch: bool = True) -> Claims:
        if len(token) > self.max_token_bytes:
            raise AuthError("Token is too large.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("Malformed token.") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise AuthError("Token algorithm is not allowed.")
        if not isinstance(kid, str) or not kid:
            raise AuthError("Token has no key id.")
        key = self.keys.get(kid, allow_fetch=allow_fetch)
        if key is None:
            raise AuthError("Token signed by an unknown key.")
        if key.jwk.key_type not in _KTY_FOR_ALG[alg] or key.declared_alg not in (alg, None):
            raise AuthError("Token algorithm does not match its key.")
        try:
            payload = jwt.decode(
                token,
                key=key.jwk.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"], "verify_iat": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("Token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise AuthError("Token is not valid.") from exc
        sub = payload.get("sub")
        if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
            raise AuthError("Token has no valid subject.")
        email = payload.get("email")
        name = payload.get("name")
        return Claims(
            sub=sub,
            email=email if isinstance(email, str) else "",
            name=name if isinstance(name, str) else "",
            raw=payload,
        )

    async def averify(self, token: str) -> Claims:
        """Verify without blocking the event loop: only a key fetch leaves it."""
        try:
            return self.verify(token, allow_fetch=False)
        except KeyFetchNeeded:
            return await sync_to_async(self.verify, thread_sensitive=False)(token)


def _dev_jwks_fetcher() -> Callable[[], dict[str, Any]]:
    from accounts import dev_issuer

    def fetch() -> dict[str, Any]:
        return json.loads(json.dumps(dev_issuer.jwks()))

    return fetch


@lru_cache(maxsize=1)
def get_verifier() -> TokenVerifier:
    """The process-wide verifier, built from settings on first use."""
    conf = settings.BETTER_AUTH
    if conf["JWKS_URL"]:
        fetch = http_jwks_fetcher(conf["JWKS_URL"], conf["JWKS_TIMEOUT_SECONDS"])
    else:
        fetch = _dev_jwks_fetcher()
    return TokenVerifier(
        keys=JwksCache(
            fetch, ttl=conf["JWKS_TTL_SECONDS"], min_refetch=conf["JWKS_MIN_REFETCH_SECONDS"]
        ),
        issuer=conf["ISSUER"],
        audience=conf["AUDIENCE"],
        algorithms=conf["ALGORITHMS"],
        leeway=conf["LEEWAY_SECONDS"],
        max_token_bytes=conf["MAX_TOKEN_BYTES"],
    )


@receiver(setting_changed)
def _reset_verifier(*, setting: str, **kwargs: Any) -> None:
    # Tests that change auth settings get a verifier built from the new ones.
    if setting == "BETTER_AUTH":
        get_verifier.cache_clear()
