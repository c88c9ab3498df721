"""Verified tokens are cached by hash until their `exp`, bounded, and never outlive their key."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest

from accounts.jwt import get_verifier
from accounts.token_cache import CachedToken, VerifiedTokenCache


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _entry(expires_at: float, claims: str = "claims") -> CachedToken[str]:
    return CachedToken(claims=claims, kid="k1", key=object(), expires_at=expires_at)


def test_a_verified_token_is_served_until_its_exp() -> None:
    clock = Clock()
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(clock=clock)
    digest = cache.digest("header.payload.signature")
    cache.put(digest, _entry(clock.now + 60))

    assert cache.get(digest).claims == "claims"
    clock.now += 60
    assert cache.get(digest) is None
    assert len(cache) == 0


def test_an_expired_token_is_never_stored() -> None:
    clock = Clock()
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(clock=clock)
    cache.put(cache.digest("t"), _entry(clock.now - 1))
    assert len(cache) == 0


def test_the_cache_is_bounded_oldest_first() -> None:
    clock = Clock()
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(max_entries=3, clock=clock)
    digests = [cache.digest(f"token-{n}") for n in range(5)]
    for n, digest in enumerate(digests):
        cache.put(digest, _entry(clock.now + 60, claims=f"c{n}"))

    assert len(cache) == 3
    assert [cache.get(d) for d in digests[:2]] == [None, None]
    assert [cache.get(d).claims for d in digests[2:]] == ["c2", "c3", "c4"]


def test_only_the_hash_of_a_token_is_kept() -> None:
    cache: VerifiedTokenCache[str] = VerifiedTokenCache()
    token = "eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl"
    cache.put(cache.digest(token), _entry(time.time() + 60))
    assert all(token.encode() not in key for key in cache._entries)
    assert len(cache.digest(token)) == 32


@pytest.mark.django_db
def test_the_second_request_with_a_token_skips_verification(better_auth) -> None:
    verifier = get_verifier()
    token = better_auth.token()

    first = verifier.verify(token)
    assert verifier.verified.get(verifier.verified.digest(token)) is not None
    # The very same claims object: served from the cache, not decoded again.
    assert verifier.verify(token) is first


@pytest.mark.django_db
def test_a_cached_token_is_refused_once_its_key_is_retired(client, better_auth) -> None:
    better_auth.configure(JWKS_TTL_SECONDS=0, JWKS_MIN_REFETCH_SECONDS=0)
    token = better_auth.token()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me/", headers=headers).status_code == HTTPStatus.OK
    assert len(get_verifier().verified) == 1

    better_auth.rotate(retire_old=True)

    assert client.get("/api/me/", headers=headers).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db
def test_a_tampered_token_is_not_a_hit(client, better_auth) -> None:
    token = better_auth.token()
    response = client.get("/api/me/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == HTTPStatus.OK
    head, payload, signature = token.split(".")
    # A character in the middle: all six of its bits count (the last one's don't all),
    # and it is never replaced by itself.
    swapped = "B" if signature[10] == "A" else "A"
    forged = f"{head}.{payload}.{signature[:10]}{swapped}{signature[11:]}"
    response = client.get("/api/me/", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["message"] == "Token signature is not valid."
