"""JWKS behaviour against the local Better Auth: algorithms, rotation, the
refetch rate limit, outages and garbage documents (fetches counted at the server)."""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from accounts import dev_issuer
from accounts.authentication import aauthenticate_jwt
from accounts.jwt import (
    MAX_JWKS_BYTES,
    JwksCache,
    KeyFetchNeeded,
    get_verifier,
    http_jwks_fetcher,
)
from accounts.tests.betterauth import SigningKey
from config.exceptions import AuthError

ME = "/api/me/"
UNVERIFIED = {"verify_signature": False}


class FakeClock:
    """Monotonic seconds under the test's control (no sleeping through windows)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(better_auth, clock: FakeClock) -> JwksCache:
    """Settings' defaults (5 min TTL, 30 s window) on a clock the test moves."""
    fetch = http_jwks_fetcher(better_auth.jwks_url, timeout=5)
    return JwksCache(fetch, ttl=300, min_refetch=30, clock=clock)


def _me(client, token: str):
    return client.get(ME, headers={"Authorization": f"Bearer {token}"})


# --- algorithms -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("alg", ["EdDSA", "RS256", "PS256", "ES256", "ES512"])
def test_each_allowed_algorithm_is_accepted_with_its_key_type(client, better_auth, alg):
    token = better_auth.token(alg=alg)
    response = _me(client, token)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["better_auth_id"] == jwt.decode(token, options=UNVERIFIED)["sub"]


@pytest.mark.django_db
def test_rsa_key_that_declares_rs256_refuses_ps256(client, better_auth):
    pinned = SigningKey.generate("rsa", alg="RS256")
    better_auth.publish(pinned)

    assert _me(client, better_auth.token(alg="RS256", key=pinned)).status_code == HTTPStatus.OK
    refused = _me(client, better_auth.token(alg="PS256", key=pinned))
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["message"] == "Token algorithm does not match its key."


@pytest.mark.django_db
def test_weak_rsa_key_is_refused(client, better_auth):
    weak = SigningKey(
        kid="weak", private=rsa.generate_private_key(public_exponent=65537, key_size=1024), alg=None
    )
    better_auth.publish(weak)

    response = _me(client, better_auth.token(alg="RS256", key=weak))

    # Refused for its key size, not for anything else about the token or the key set.
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["message"] == "Token algorithm does not match its key."


# --- rotation and the refetch rate limit ----------------------------------------------


@pytest.mark.django_db
def test_rotated_key_is_accepted_after_one_refetch(client, better_auth):
    # No cool-down here: this test is about the refetch, the window has its own test.
    better_auth.configure(JWKS_MIN_REFETCH_SECONDS=0)
    old_token = better_auth.token()
    assert _me(client, old_token).status_code == HTTPStatus.OK
    assert better_auth.fetch_count == 1

    better_auth.rotate()
    new_token = better_auth.token()

    assert _me(client, new_token).status_code == HTTPStatus.OK
    assert better_auth.fetch_count == 2
    assert _me(client, new_token).status_code == HTTPStatus.OK
    assert _me(client, old_token).status_code == HTTPStatus.OK  # still published
    assert better_auth.fetch_count == 2


@pytest.mark.django_db
def test_retired_key_is_refused_once_keys_are_refreshed(client, better_auth):
    better_auth.configure(JWKS_TTL_SECONDS=0, JWKS_MIN_REFETCH_SECONDS=0)
    old_token = better_auth.token()
    assert _me(client, old_token).status_code == HTTPStatus.OK

    better_auth.rotate(retire_old=True)

    refused = _me(client, old_token)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["message"] == "Token signed by an unknown key."
    assert _me(client, better_auth.token()).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_unknown_kids_refetch_at_most_once_per_window(client, better_auth):
    # Default window (30 s): a flood of made-up kids costs Better Auth one fetch.
    assert better_auth.fetch_count == 0
    for n in range(10):
        response = _me(client, better_auth.token(kid=f"made-up-{n}"))
        assert response.status_code == HTTPStatus.UNAUTHORIZED

    assert better_auth.fetch_count == 1
    assert _me(client, better_auth.token()).status_code == HTTPStatus.OK
    assert better_auth.fetch_count == 1


@pytest.mark.django_db
def test_rotation_inside_the_window_waits_for_it_then_refetches_once(better_auth):
    clock = FakeClock()
    cache = _cache(better_auth, clock)
    assert cache.get(better_auth.ed25519.kid) is not None
    new_kid = better_auth.rotate()

    clock.now += 10
    assert cache.get(new_kid) is None  # inside the window: no fetch
    assert cache.get(new_kid) is None
    assert better_auth.fetch_count == 1

    clock.now += 21
    assert cache.get(new_kid) is not None  # window over: exactly one refetch
    assert cache.get(new_kid) is not None
    assert better_auth.fetch_count == 2


@pytest.mark.django_db
def test_keys_are_refreshed_after_ttl(better_auth):
    clock = FakeClock()
    cache = _cache(better_auth, clock)
    kid = better_auth.ed25519.kid
    cache.get(kid)
    clock.now += 299
    cache.get(kid)
    assert better_auth.fetch_count == 1

    clock.now += 2
    cache.get(kid)

    assert better_auth.fetch_count == 2


# --- outages and garbage ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["503", "refused"])
def test_outage_keeps_known_keys_and_refuses_unknown_kids(client, better_auth, mode, caplog):
    # Every verification tries to refresh, so the outage is really exercised.
    better_auth.configure(JWKS_TTL_SECONDS=0, JWKS_MIN_REFETCH_SECONDS=0)
    token = better_auth.token()
    assert _me(client, token).status_code == HTTPStatus.OK
    assert better_auth.fetch_count == 1

    with better_auth.outage(mode):
        known = _me(client, token)
        unknown = _me(client, better_auth.token(kid="never-published"))

    assert known.status_code == HTTPStatus.OK
    assert unknown.status_code == HTTPStatus.UNAUTHORIZED
    assert unknown.json()["error"]["code"] == "auth_error"
    # 503s reach the server (and are counted); refused connections never do.
    assert better_auth.fetch_count == (3 if mode == "503" else 1)
    assert "JWKS refresh failed" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["503", "refused"])
def test_outage_before_any_fetch_is_401_not_500(client, better_auth, mode):
    with better_auth.outage(mode):
        response = _me(client, better_auth.token())

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe binary",
        b"[]",
        b'{"keys": "all of them"}',
        b'{"keys": []}',
        b'{"keys": [1, "two", null, {}]}',
        b'{"keys": [{"kid": "k", "kty": "OKP", "crv": "Ed25519", "x": 5}]}',
        b'{"keys": [{"kid": "k", "kty": "RSA", "alg": ["RS256"], "n": "AQAB", "e": "AQAB"}]}',
        b'{"keys": [{"kid": ["k"], "kty": "OKP", "crv": "Ed25519", "x": "AA"}]}',
        b'{"keys": [{"kid": "k", "kty": "oct", "k": "c2VjcmV0"}]}',
    ],
    ids=[
        "not_json",
        "binary",
        "list",
        "keys_not_a_list",
        "empty",
        "junk_entries",
        "bad_x",
        "alg_list",
        "kid_list",
        "symmetric",
    ],
)
def test_garbage_jwks_is_401_not_500(client, better_auth, body):
    better_auth.serve_raw(body)

    response = _me(client, better_auth.token())

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"
    assert better_auth.fetch_count == 1


@pytest.mark.django_db
def test_garbage_jwks_after_good_one_keeps_known_keys(client, better_auth):
    better_auth.configure(JWKS_TTL_SECONDS=0, JWKS_MIN_REFETCH_SECONDS=0)
    token = better_auth.token()
    assert _me(client, token).status_code == HTTPStatus.OK

    better_auth.serve_raw(b"<html>502 Bad Gateway</html>")

    assert _me(client, token).status_code == HTTPStatus.OK
    assert _me(client, better_auth.token(kid="unknown")).status_code == HTTPStatus.UNAUTHORIZED
    assert better_auth.fetch_count == 3


@pytest.mark.django_db
def test_jwks_entry_with_private_key_material_is_not_trusted(client, better_auth):
    key = SigningKey.generate("rsa", alg="RS256")
    leaked = {**json.loads(RSAAlgorithm.to_jwk(key.private)), "kid": key.kid, "alg": "RS256"}
    assert "d" in leaked
    document = {"keys": [better_auth.ed25519.public_jwk(), leaked]}
    better_auth.serve_raw(json.dumps(document).encode())

    refused = _me(client, better_auth.token(alg="RS256", key=key))

    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert _me(client, better_auth.token()).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_oversized_jwks_is_refused(client, better_auth, caplog):
    padding = [{"kid": f"pad-{n}", "kty": "none"} for n in range(20_000)]
    document = {"keys": [better_auth.ed25519.public_jwk(), *padding]}
    better_auth.serve_raw(json.dumps(document).encode())

    with caplog.at_level(logging.WARNING, logger="accounts.jwt"):
        response = _me(client, better_auth.token())

    # Its valid key is in there, but the document is refused whole for its size.
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["message"] == "Token signed by an unknown key."
    assert any(f"over {MAX_JWKS_BYTES} bytes" in record.getMessage() for record in caplog.records)


# --- async path ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_async_path_fetches_only_when_needed(better_auth):
    verifier = get_verifier()
    token = better_auth.token()
    with pytest.raises(KeyFetchNeeded):
        verifier.keys.get(better_auth.ed25519.kid, allow_fetch=False)

    first = await aauthenticate_jwt(token)

    # Keys cached now: the non-blocking lookup answers on the event loop.
    assert verifier.keys.get(better_auth.ed25519.kid, allow_fetch=False) is not None
    assert (await aauthenticate_jwt(token)).pk == first.pk
    assert better_auth.fetch_count == 1


@pytest.mark.django_db(transaction=True)
async def test_async_outage_with_unknown_kid_is_auth_error(better_auth):
    with better_auth.outage("refused"), pytest.raises(AuthError):
        await aauthenticate_jwt(better_auth.token())


# --- configuration ---------------------------------------------------------------------


def test_verifier_is_rebuilt_when_settings_change(settings, better_auth):
    before = get_verifier()
    assert before.issuer == better_auth.url

    settings.BETTER_AUTH = {**settings.BETTER_AUTH, "ISSUER": "https://auth.example.com"}

    after = get_verifier()
    assert after is not before
    assert after.issuer == "https://auth.example.com"


def test_only_asymmetric_algorithms_are_ever_allowed(settings):
    settings.BETTER_AUTH = {**settings.BETTER_AUTH, "ALGORITHMS": ["HS256", "none", "EdDSA"]}

    assert get_verifier().algorithms == ["EdDSA"]


@pytest.mark.django_db
def test_dev_tokens_are_refused_when_better_auth_is_configured(client, better_auth, user):
    token = dev_issuer.issue_token(user.email, sub=user.better_auth_id)

    refused = _me(client, token)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["message"] == "Token signed by an unknown key."


@pytest.mark.django_db
def test_dev_issuer_tokens_verify_through_the_same_path(client, user, token_for, caplog):
    caplog.set_level(logging.DEBUG)

    response = _me(client, token_for(user))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["better_auth_id"] == user.better_auth_id


def test_dev_jwks_publishes_only_the_public_key():
    (jwk,) = dev_issuer.jwks()["keys"]

    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert "d" not in jwk


def test_a_caller_arriving_during_a_fetch_waits_for_it_instead_of_refusing(better_auth):
    # Cold start: the first request fetches the JWKS; a second one arriving
    # meanwhile must not read the still-empty key set and answer 401.
    fetch = http_jwks_fetcher(better_auth.jwks_url, timeout=5)
    started, release = threading.Event(), threading.Event()

    def slow_fetch() -> dict:
        started.set()
        release.wait(timeout=10)
        return fetch()

    cache = JwksCache(slow_fetch, ttl=300, min_refetch=30)
    token_kid = jwt.get_unverified_header(better_auth.token())["kid"]
    first = threading.Thread(target=cache.get, args=(token_kid,))
    first.start()
    assert started.wait(timeout=10)

    with pytest.raises(KeyFetchNeeded):  # the non-blocking path defers to the fetch
        cache.get(token_kid, allow_fetch=False)

    release.set()
    first.join(timeout=10)
    assert cache.get(token_kid, allow_fetch=False) is not None
