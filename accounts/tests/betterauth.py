"""A local stand-in for Better Auth: a real HTTP JWKS endpoint with real keys,
and tokens shaped exactly like Better Auth's JWT plugin output.

The JWT plugin signs `{...session.user, sub, iat, exp, iss, aud}` with a
protected header of only `{alg, kid}` (no `typ`), `exp = iat + 15 min` and
`iss = aud = baseURL`, and serves the public keys at `/api/auth/jwks`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from accounts.models import User

JWKS_PATH = "/api/auth/jwks"
TOKEN_TTL = 900  # Better Auth's default: 15 minutes

# Pass as a claim override to leave the claim out of the token.
OMIT: Any = object()

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# The algorithm each key kind signs with by default, and the key a token alg needs.
_KEY_KIND_FOR_ALG = {
    "EdDSA": "ed25519",
    "RS256": "rsa",
    "PS256": "rsa",
    "ES256": "p256",
    "ES512": "p521",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_private_key(kind: str) -> PrivateKey:
    """A fresh private key: "ed25519", "rsa" (2048 bits), "p256" or "p521"."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p521":
        return ec.generate_private_key(ec.SECP521R1())
    raise ValueError(kind)


@dataclass(frozen=True)
class SigningKey:
    """A private key with the `kid` it is (or could be) published under."""

    kid: str
    private: PrivateKey
    # The JWK's `alg` member; None publishes the key without one (RSA: RS256 and PS256).
    alg: str | None

    @classmethod
    def generate(cls, kind: str, *, alg: str | None = None, kid: str | None = None) -> SigningKey:
        return cls(kid=kid or secrets.token_urlsafe(24), private=new_private_key(kind), alg=alg)

    def with_kid(self, kid: str) -> SigningKey:
        return SigningKey(kid=kid, private=self.private, alg=self.alg)

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
        elif isinstance(public, rsa.RSAPublicKey):
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
        else:
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
        jwk.pop("key_ops", None)
        jwk["kid"] = self.kid
        if self.alg:
            jwk["alg"] = self.alg
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def encode(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS with exactly this header (PyJWT's encode would add `typ`)."""
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    return signing_input + "." + b64url(sign(signing_input.encode()))


def signer(alg: str, key: PrivateKey) -> Callable[[bytes], bytes]:
    """Sign with PyJWT's implementation of `alg` (any alg, any key: tests forge too)."""
    algorithm = jwt.get_algorithm_by_name(alg)
    return lambda message: algorithm.sign(message, key)


def hmac_signer(secret: bytes) -> Callable[[bytes], bytes]:
    """HS256 with raw bytes, which PyJWT refuses for PEM keys (the key-confusion forgery)."""
    return lambda message: hmac.new(secret, message, hashlib.sha256).digest()


JwksMode = Literal["ok", "unavailable", "raw"]


class BetterAuthServer:
    """`GET /api/auth/jwks` on 127.0.0.1 in a thread; counts the fetches it answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = []
        self._mode: JwksMode = "ok"
        self._raw_body = b""
        self._fetches = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        """Listen (again, on the same port after `stop`) and serve in a daemon thread."""
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket: connections are refused until `start`."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        assert self._thread is not None
        self._thread.join()
        self._httpd = self._thread = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- state --------------------------------------------------------------------
    def reset(self, keys: list[SigningKey]) -> None:
        with self._lock:
            self._keys = list(keys)
            self._mode = "ok"
            self._fetches = 0
        if not self.running:
            self.start()

    def publish(self, *keys: SigningKey) -> None:
        with self._lock:
            self._keys.extend(keys)

    def retire(self, kid: str) -> None:
        with self._lock:
            self._keys = [key for key in self._keys if key.kid != kid]

    def set_mode(self, mode: JwksMode, raw_body: bytes = b"") -> None:
        with self._lock:
            self._mode, self._raw_body = mode, raw_body

    @property
    def fetch_count(self) -> int:
        with self._lock:
            return self._fetches

    def _answer(self) -> tuple[int, bytes]:
        with self._lock:
            self._fetches += 1
            if self._mode == "unavailable":
                return HTTPStatus.SERVICE_UNAVAILABLE, b'{"message":"unavailable"}'
            if self._mode == "raw":
                return HTTPStatus.OK, self._raw_body
            document = {"keys": [key.public_jwk() for key in self._keys]}
        return HTTPStatus.OK, json.dumps(document).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != JWKS_PATH:
                    status, body = HTTPStatus.NOT_FOUND, b"{}"
                else:
                    status, body = server._answer()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                # Quiet: pytest output stays readable.
                return

        return Handler


@dataclass(frozen=True)
class BaseKeys:
    """The keys published at the start of every test (generated once: RSA is slow)."""

    ed25519: SigningKey
    rsa: SigningKey
    p256: SigningKey
    p521: SigningKey

    @classmethod
    def generate(cls) -> BaseKeys:
        return cls(
            ed25519=SigningKey.generate("ed25519", alg="EdDSA"),
            rsa=SigningKey.generate("rsa"),  # no `alg`: serves RS256 and PS256
            p256=SigningKey.generate("p256", alg="ES256"),
            p521=SigningKey.generate("p521", alg="ES512"),
        )


class BetterAuth:
    """Test helper over a BetterAuthServer: mint tokens, rotate keys, break the JWKS."""

    def __init__(
        self, server: BetterAuthServer, keys: BaseKeys, configure: Callable[..., None]
    ) -> None:
        self.server = server
        self._configure = configure
        # The key each algorithm signs with by default (the "current" keys).
        self.ed25519, self.rsa, self.p256, self.p521 = keys.ed25519, keys.rsa, keys.p256, keys.p521
        server.reset([self.ed25519, self.rsa, self.p256, self.p521])

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def jwks_url(self) -> str:
        return self.server.base_url + JWKS_PATH

    @property
    def fetch_count(self) -> int:
        """JWKS requests the server has answered in this test."""
        return self.server.fetch_count

    def configure(self, **overrides: Any) -> None:
        """Override BETTER_AUTH settings (the verifier is rebuilt, its cache empty)."""
        self._configure(**overrides)

    def key_for(self, alg: str) -> SigningKey:
        kind = _KEY_KIND_FOR_ALG.get(alg, "ed25519")
        return {"ed25519": self.ed25519, "rsa": self.rsa, "p256": self.p256, "p521": self.p521}[
            kind
        ]

    # --- tokens -------------------------------------------------------------------
    def claims(self, user: User | None = None, **overrides: Any) -> dict[str, Any]:
        """The JWT plugin's payload for `user` (a new Better Auth user when None)."""
        now = int(time.time())
        if user is None:
            user_id = secrets.token_hex(16)
            email, name, created = f"{user_id[:10]}@example.com", "Ada Lovelace", now
        else:
            assert user.better_auth_id, "a Better Auth user needs better_auth_id"
            user_id, email, name = user.better_auth_id, user.email, user.name
            created = int(user.date_joined.timestamp())
        stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        claims: dict[str, Any] = {
            "id": user_id,
            "email": email,
            "name": name,
            "emailVerified": True,
            "image": None,
            "createdAt": stamp.replace("+00:00", "Z"),
            "updatedAt": stamp.replace("+00:00", "Z"),
            "iat": now,
            "iss": self.url,
            "aud": self.url,
            "sub": user_id,
            "exp": now + TOKEN_TTL,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not OMIT}

    def token(
        self,
        user: User | None = None,
        *,
        alg: str = "EdDSA",
        kid: str | None = None,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        **claim_overrides: Any,
    ) -> str:
        """A Better Auth JWT; `key` signs (default: the current key for `alg`),
        `kid` overrides the header's kid, `headers` adds/overrides header members
        (OMIT drops one), claim overrides likewise."""
        key = key or self.key_for(alg)
        header: dict[str, Any] = {"alg": alg, "kid": kid or key.kid, **(headers or {})}
        header = {name: value for name, value in header.items() if value is not OMIT}
        return encode(header, self.claims(user, **claim_overrides), signer(alg, key.private))

    def bearer(self, user: User | None = None, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, **kwargs)}"}

    # --- keys ---------------------------------------------------------------------
    def rotate(self, *, retire_old: bool = False) -> str:
        """Publish a new Ed25519 key and sign EdDSA tokens with it; its kid."""
        old, self.ed25519 = self.ed25519, SigningKey.generate("ed25519", alg="EdDSA")
        self.server.publish(self.ed25519)
        if retire_old:
            self.server.retire(old.kid)
        return self.ed25519.kid

    def publish(self, *keys: SigningKey) -> None:
        self.server.publish(*keys)

    # --- failures -----------------------------------------------------------------
    @contextmanager
    def outage(self, mode: Literal["503", "refused"] = "503") -> Iterator[None]:
        """The JWKS answers 503, or nothing listens on its port at all."""
        self.set_outage(mode)
        try:
            yield
        finally:
            self.set_outage(None)

    def set_outage(self, mode: Literal["503", "refused"] | None) -> None:
        if mode == "refused":
            self.server.stop()
        elif not self.server.running:
            self.server.start()
        self.server.set_mode("unavailable" if mode == "503" else "ok")

    def serve_raw(self, body: bytes) -> None:
        """Answer the JWKS with these bytes (garbage, odd JSON) until `serve_keys`."""
        self.server.set_mode("raw", body)

    def serve_keys(self) -> None:
        self.server.set_mode("ok")
