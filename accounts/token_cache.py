"""Verified tokens by hash, until they expire: a signature is checked once per token.

Checking an EdDSA/ECDSA/RSA signature and the claims costs more CPU than the rest of
a request's authentication; a client sends the same token on every request until it
expires. The cache holds the *verified* claims under the SHA-256 of the token (never
the token itself), for no longer than the token's own `exp`, and at most `max_entries`
of them (oldest dropped first). A hit is still checked against the current key set by
the caller, so a key retired from the JWKS stops its cached tokens too.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

C = TypeVar("C")


@dataclass(frozen=True)
class CachedToken(Generic[C]):
    claims: C
    kid: str
    key: object  # the PublishedKey that verified it (compared by identity)
    expires_at: float  # wall-clock seconds (the token's `exp`)


class VerifiedTokenCache(Generic[C]):
    """A bounded map sha256(token) → CachedToken, entries dropped at their `exp`."""

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.time):
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, CachedToken[C]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def digest(token: str) -> bytes:
        return hashlib.sha256(token.encode("ascii")).digest()

    def get(self, digest: bytes) -> CachedToken[C] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self._clock() >= entry.expires_at:
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: bytes, entry: CachedToken[C]) -> None:
        if self.max_entries <= 0 or self._clock() >= entry.expires_at:
            return
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
