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
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from accounts.token_cache import CachedToken, VerifiedTokenCache
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
# Public keys only (a JWKS that leaks a private key is not trusted), and the
# exact curve each algorithm is defined for (SPEC: EdDSA means Ed25519).
_PUBLIC_KEY_FITS: dict[str, Callable[[object], bool]] = {
    "EdDSA": lambda key: isinstance(key, ed25519.Ed25519PublicKey),
    "ES256": lambda key: (
        isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    ),
    "ES512": lambda key: (
        isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP521R1)
    ),
    "RS256": lambda key: isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048,
    "PS256": lambda key: isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048,
}
# A JWKS larger than this is not a JWKS (and must not exhaust memory).
MAX_JWKS_BYTES = 256 * 1024


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
        """The key published under `kid`, fetching first when due; None if unknown.

        With `allow_fetch=False` a due fetch raises KeyFetchNeeded instead, so
        async callers can move only that blocking fetch off the event loop.
        """
        if self._due(kid):
            if not allow_fetch:
                raise KeyFetchNeeded
            with self._lock:
                # Another thread may have fetched while this one waited.
                if self._due(kid):
                    self._refresh()
        # `_keys` is replaced whole, never mutated: one lookup is race-free.
        return self._keys.get(kid)

    def _refresh(self) -> None:
        # The attempt is stamped when it ends, not when it starts: until then other
        # callers still see the fetch as due and wait for it on the lock, instead
        # of reading the not-yet-filled key set and refusing a valid token.
        try:
            document = self._fetch()
            keys = _parse_jwks(document)
        except JwksUnavailable as exc:
            self._attempted_at = self._clock()
            # Keep serving the keys we have: a JWKS outage must not log everyone out.
            logger.warning("JWKS refresh failed, keeping %d cached keys: %s", len(self._keys), exc)
            return
        self._keys = keys
        self._fetched_at = self._attempted_at = self._clock()


def _parse_jwks(document: Any) -> dict[str, PublishedKey]:
    """Usable public signing keys by `kid`; anything odd in an entry skips that entry."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksUnavailable("JWKS document has no 'keys' list")
    keys: dict[str, PublishedKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            continue
        kid, alg, kty = entry.get("kid"), entry.get("alg"), entry.get("kty")
        if not isinstance(kid, str) or not kid:
            continue
        # `alg` is untrusted JSON: compare only strings (a list would not even hash).
        if alg is not None and not (isinstance(alg, str) and alg in _KTY_FOR_ALG):
            continue
        if kty not in ("OKP", "EC", "RSA") or entry.get("use", "sig") != "sig":
            continue
        if "d" in entry:
            logger.warning("Skipping JWKS key %s: it holds private key material", kid)
            continue
        try:
            keys[kid] = PublishedKey(jwt.PyJWK(entry, algorithm=alg), alg)
        except jwt.PyJWTError:
            logger.warning("Skipping unusable JWKS key %s", kid)
    if not keys:
        # An issuer always publishes a key: an empty set is a broken answer, not a revocation.
        raise JwksUnavailable("JWKS document holds no usable signing key")
    return keys


def http_jwks_fetcher(url: str, timeout: float) -> Callable[[], dict[str, Any]]:
    """Fetch the JWKS over HTTP; every failure becomes JwksUnavailable."""

    def fetch() -> dict[str, Any]:
        try:
            with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise JwksUnavailable(f"JWKS at {url} is over {MAX_JWKS_BYTES} bytes")
            return json.loads(bytes(body))
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
        cache_size: int = 10_000,
    ) -> None:
        self.keys = keys
        # Verified tokens until their `exp` (accounts/token_cache.py).
        self.verified: VerifiedTokenCache[Claims] = VerifiedTokenCache(max_entries=cache_size)
        self.issuer = issuer
        self.audience = audience
        self.algorithms = [alg for alg in algorithms if alg in _KTY_FOR_ALG]
        self.leeway = leeway
        self.max_token_bytes = max_token_bytes

    def verify(self, token: str, *, allow_fetch: bool = True) -> Claims:
        """The claims of a valid token; AuthError otherwise (KeyFetchNeeded when a
        fetch is due and `allow_fetch` is False)."""
        # Messages never quote the token: they end up in responses and logs.
        if not token.isascii():
            raise AuthError("Malformed token.")
        if len(token) > self.max_token_bytes:
            raise AuthError("Token is too large.")
        digest = self.verified.digest(token)
        cached = self.verified.get(digest)
        # A hit still needs its key in the current key set: a retired key stops it.
        if cached is not None and self.keys.get(cached.kid, allow_fetch=allow_fetch) is cached.key:
            return cached.claims
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("Malformed token.") from exc
        alg, kid = header.get("alg"), header.get("kid")
        # Only the configured asymmetric algorithms: never `none`, never HS*.
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise AuthError("Token algorithm is not allowed.")
        if not isinstance(kid, str) or not kid:
            raise AuthError("Token has no key id.")
        key = self.keys.get(kid, allow_fetch=allow_fetch)
        if key is None:
            raise AuthError("Token signed by an unknown key.")
        if (
            key.jwk.key_type not in _KTY_FOR_ALG[alg]
            or key.declared_alg not in (alg, None)
            or not _PUBLIC_KEY_FITS[alg](key.jwk.key)
        ):
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
        except jwt.PyJWTError as exc:
            raise AuthError(_reason(exc)) from exc
        sub = payload.get("sub")
        if not isinstance(sub, str) or not sub.strip() or len(sub) > 255 or not sub.isprintable():
            raise AuthError("Token has no valid subject.")
        claims = Claims(
            sub=sub,
            email=_clean_text(payload.get("email"), max_length=254, truncate=False),
            name=_clean_text(payload.get("name"), max_length=255, truncate=True),
            raw=payload,
        )
        exp = payload["exp"]
        if isinstance(exp, int | float):
            self.verified.put(digest, CachedToken(claims, kid, key, float(exp)))
        return claims

    async def averify(self, token: str) -> Claims:
        """Verify without blocking the event loop: only a key fetch leaves it."""
        try:
            return self.verify(token, allow_fetch=False)
        except KeyFetchNeeded:
            return await sync_to_async(self.verify, thread_sensitive=False)(token)


def _reason(exc: jwt.PyJWTError) -> str:
    """A client-facing reason: specific enough to debug a frontend, never the token."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "Token has expired."
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "Token is not valid yet."
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"Token has no '{exc.claim}' claim."
    if isinstance(exc, jwt.InvalidIssuerError):
        return "Token issuer is not accepted."
    if isinstance(exc, jwt.InvalidAudienceError):
        return "Token audience is not accepted."
    if isinstance(exc, jwt.InvalidSignatureError):
        return "Token signature is not valid."
    return "Token is not valid."


def _clean_text(value: Any, *, max_length: int, truncate: bool) -> str:
    """A claim fit for a database column: a string without NULs (PostgreSQL refuses
    them) within the column's length; anything else reads as absent."""
    if not isinstance(value, str):
        return ""
    value = value.replace("\x00", "").strip()
    if len(value) > max_length:
        # A name can be shortened; a shortened email would be someone else's.
        return value[:max_length] if truncate else ""
    return value


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
