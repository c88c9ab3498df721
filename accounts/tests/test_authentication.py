"""The attack matrix: every bad credential is a 401 with SPEC's body, over HTTP
(DRF's /api/me/) and through aauthenticate_jwt, and is never logged."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import quote

import httpx
import jwt
import pytest
from channels.testing import WebsocketCommunicator
from django.test import RequestFactory

from accounts.authentication import aauthenticate_jwt, bearer_token
from accounts.models import User
from accounts.tests.betterauth import (
    OMIT,
    BetterAuth,
    SigningKey,
    b64url,
    encode,
    hmac_signer,
    signer,
)
from accounts.ws_auth import SECRET_SUBPROTOCOL
from config.asgi import application
from config.errors import api_error_response
from config.exceptions import AuthError
from todos.consumers import CLOSE_UNAUTHENTICATED

ME = "/api/me/"
UNVERIFIED = {"verify_signature": False}


def _alg_none(ba: BetterAuth) -> str:
    return encode({"alg": "none", "kid": ba.ed25519.kid}, ba.claims(), lambda _: b"")


def _hs256_with_public_key(ba: BetterAuth) -> str:
    # Classic key confusion: HMAC keyed with the RSA public key the server publishes.
    forge = hmac_signer(ba.rsa.public_pem())
    return encode({"alg": "HS256", "kid": ba.rsa.kid}, ba.claims(), forge)


def _hs256_with_jwk_x(ba: BetterAuth) -> str:
    raw_x = ba.ed25519.public_jwk()["x"].encode()
    return encode({"alg": "HS256", "kid": ba.ed25519.kid}, ba.claims(), hmac_signer(raw_x))


def _hs256_any_secret(ba: BetterAuth) -> str:
    return encode({"alg": "HS256", "kid": ba.ed25519.kid}, ba.claims(), hmac_signer(b"secret"))


def _tampered_payload(ba: BetterAuth) -> str:
    header, _, signature = ba.token().split(".")
    forged = ba.claims(sub="someone-else", id="someone-else", email="boss@example.com")
    return f"{header}.{b64url(json.dumps(forged).encode())}.{signature}"


def _tampered_signature(ba: BetterAuth) -> str:
    header, payload, signature = ba.token().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{header}.{payload}.{flipped}"


def _unpublished_key_under_published_kid(ba: BetterAuth) -> str:
    rogue = SigningKey.generate("ed25519", alg="EdDSA", kid=ba.ed25519.kid)
    return ba.token(key=rogue)


def _embedded_jwk_header(ba: BetterAuth) -> str:
    # The token brings its own key (CVE-2018-0114 style): it must not be trusted.
    rogue = SigningKey.generate("ed25519", alg="EdDSA")
    return ba.token(key=rogue, kid=ba.ed25519.kid, headers={"jwk": rogue.public_jwk()})


def _jku_header(ba: BetterAuth) -> str:
    rogue = SigningKey.generate("ed25519", alg="EdDSA")
    return ba.token(key=rogue, headers={"jku": "http://127.0.0.1:1/evil-jwks"})


def _rs256_header_on_okp_key(ba: BetterAuth) -> str:
    return encode(
        {"alg": "RS256", "kid": ba.ed25519.kid}, ba.claims(), signer("RS256", ba.rsa.private)
    )


def _es256_header_on_rsa_key(ba: BetterAuth) -> str:
    return ba.token(alg="ES256", kid=ba.rsa.kid)


def _declared_alg_mismatch(ba: BetterAuth) -> str:
    # The P-256 JWK says "ES256"; the same curve key cannot be used as "ES512".
    return ba.token(alg="ES512", key=ba.p256)


def _huge_token(ba: BetterAuth) -> str:
    return ba.token(padding="x" * 100_000)


def _now() -> int:
    return int(time.time())


# name -> Authorization header value (None: no header at all).
ATTACKS: dict[str, Callable[[BetterAuth], str | None]] = {
    "no_header": lambda ba: None,
    "empty_bearer": lambda ba: "Bearer ",
    "basic_scheme": lambda ba: "Basic dXNlcjpwYXNzd29yZA==",
    "token_without_scheme": lambda ba: ba.token(),
    "bearer_with_two_tokens": lambda ba: f"Bearer {ba.token()} {ba.token()}",
    "garbage": lambda ba: "Bearer not-a-jwt",
    "garbage_three_parts": lambda ba: "Bearer a.b.c",
    "non_ascii": lambda ba: "Bearer eyJ\u00e9.e30.x",
    "alg_none": lambda ba: f"Bearer {_alg_none(ba)}",
    "alg_none_uppercase": lambda ba: (
        "Bearer " + encode({"alg": "NONE", "kid": ba.ed25519.kid}, ba.claims(), lambda _: b"")
    ),
    "hs256_with_public_key_pem": lambda ba: f"Bearer {_hs256_with_public_key(ba)}",
    "hs256_with_jwk_x": lambda ba: f"Bearer {_hs256_with_jwk_x(ba)}",
    "hs256_any_secret": lambda ba: f"Bearer {_hs256_any_secret(ba)}",
    "expired": lambda ba: f"Bearer {ba.token(iat=_now() - 1000, exp=_now() - 100)}",
    "nbf_beyond_leeway": lambda ba: f"Bearer {ba.token(nbf=_now() + 120)}",
    "iat_beyond_leeway": lambda ba: f"Bearer {ba.token(iat=_now() + 120, exp=_now() + 1020)}",
    "wrong_iss": lambda ba: f"Bearer {ba.token(iss='https://evil.example.com')}",
    "wrong_aud": lambda ba: f"Bearer {ba.token(aud='https://other-app.example.com')}",
    "no_exp": lambda ba: f"Bearer {ba.token(exp=OMIT)}",
    "exp_not_a_number": lambda ba: f"Bearer {ba.token(exp='tomorrow')}",
    "exp_infinite": lambda ba: f"Bearer {ba.token(exp=float('inf'))}",
    "no_iss": lambda ba: f"Bearer {ba.token(iss=OMIT)}",
    "no_aud": lambda ba: f"Bearer {ba.token(aud=OMIT)}",
    "no_sub": lambda ba: f"Bearer {ba.token(sub=OMIT)}",
    "blank_sub": lambda ba: f"Bearer {ba.token(sub='  ')}",
    "sub_not_a_string": lambda ba: f"Bearer {ba.token(sub=12345)}",
    "sub_with_nul": lambda ba: "Bearer " + ba.token(sub="abc\x00def"),
    "no_kid": lambda ba: f"Bearer {ba.token(headers={'kid': OMIT})}",
    "kid_not_a_string": lambda ba: f"Bearer {ba.token(headers={'kid': ['x']})}",
    "unknown_kid": lambda ba: f"Bearer {ba.token(kid='no-such-kid')}",
    "tampered_payload": lambda ba: f"Bearer {_tampered_payload(ba)}",
    "tampered_signature": lambda ba: f"Bearer {_tampered_signature(ba)}",
    "unpublished_key_under_published_kid": lambda ba: (
        "Bearer " + _unpublished_key_under_published_kid(ba)
    ),
    "embedded_jwk_header": lambda ba: f"Bearer {_embedded_jwk_header(ba)}",
    "jku_header": lambda ba: f"Bearer {_jku_header(ba)}",
    "unknown_crit_header": lambda ba: f"Bearer {ba.token(headers={'crit': ['exp-policy']})}",
    "rs256_header_on_okp_key": lambda ba: f"Bearer {_rs256_header_on_okp_key(ba)}",
    "es256_header_on_rsa_key": lambda ba: f"Bearer {_es256_header_on_rsa_key(ba)}",
    "declared_alg_mismatch": lambda ba: f"Bearer {_declared_alg_mismatch(ba)}",
    "hundred_kb_token": lambda ba: f"Bearer {_huge_token(ba)}",
    "chatkit_client_secret": lambda ba: f"Bearer cks_{secrets.token_urlsafe(32)}",
}


# Why each attack fails (a fragment of the 401 message): a token refused for
# the wrong reason would hide a hole behind another check.
REASONS: dict[str, str] = {
    "no_header": "credentials were not provided",
    "empty_bearer": "must be 'bearer <token>'",
    "basic_scheme": "must be 'bearer <token>'",
    "token_without_scheme": "must be 'bearer <token>'",
    "bearer_with_two_tokens": "must be 'bearer <token>'",
    "garbage": "malformed",
    "garbage_three_parts": "malformed",
    "non_ascii": "malformed",
    "alg_none": "algorithm is not allowed",
    "alg_none_uppercase": "algorithm is not allowed",
    "hs256_with_public_key_pem": "algorithm is not allowed",
    "hs256_with_jwk_x": "algorithm is not allowed",
    "hs256_any_secret": "algorithm is not allowed",
    "expired": "expired",
    "nbf_beyond_leeway": "not valid yet",
    "iat_beyond_leeway": "not valid yet",
    "wrong_iss": "issuer",
    "wrong_aud": "audience",
    "no_exp": "'exp' claim",
    "exp_not_a_number": "not valid",
    "exp_infinite": "not valid",
    "no_iss": "'iss' claim",
    "no_aud": "'aud' claim",
    "no_sub": "'sub' claim",
    "blank_sub": "subject",
    "sub_not_a_string": "not valid",
    "sub_with_nul": "subject",
    "no_kid": "key id",
    "kid_not_a_string": "malformed",
    "unknown_kid": "unknown key",
    "tampered_payload": "signature",
    "tampered_signature": "signature",
    "unpublished_key_under_published_kid": "signature",
    "embedded_jwk_header": "signature",
    "jku_header": "unknown key",
    "unknown_crit_header": "malformed",
    "rs256_header_on_okp_key": "does not match its key",
    "es256_header_on_rsa_key": "does not match its key",
    "declared_alg_mismatch": "does not match its key",
    "hundred_kb_token": "too large",
    "chatkit_client_secret": "malformed",
}


def test_every_attack_has_a_reason():
    assert set(REASONS) == set(ATTACKS)


def _assert_spec_401(attack: str, status: int, body: dict, www_authenticate: str | None) -> None:
    assert status == HTTPStatus.UNAUTHORIZED
    assert body["error"]["code"] == "auth_error"
    assert REASONS[attack] in body["error"]["message"].lower()
    assert set(body) == {"error"}
    assert www_authenticate is not None and www_authenticate.startswith("Bearer")


def _assert_not_logged(header: str | None, caplog: pytest.LogCaptureFixture) -> None:
    credential = (header or "").split(" ", 1)[-1].strip()
    if len(credential) >= 8:
        # Not even a prefix: it would help replay a token or identify its user.
        assert credential[:40] not in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_over_http_is_401(attack, client, better_auth, caplog):
    caplog.set_level(logging.DEBUG)
    header = ATTACKS[attack](better_auth)
    headers = {} if header is None else {"Authorization": header}

    response = client.get(ME, headers=headers)

    www_authenticate = response.headers.get("WWW-Authenticate")
    _assert_spec_401(attack, response.status_code, response.json(), www_authenticate)
    _assert_not_logged(header, caplog)
    assert not User.objects.exists()


async def _authenticate_header(header: str | None) -> User:
    """What an async view does with a request's Authorization header."""
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    token = bearer_token(RequestFactory().get(ME, **extra))
    if token is None:
        raise AuthError("Authentication credentials were not provided.")
    return await aauthenticate_jwt(token)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attack", ATTACKS)
async def test_attack_through_aauthenticate_jwt_is_auth_error(attack, better_auth, caplog):
    caplog.set_level(logging.DEBUG)
    header = ATTACKS[attack](better_auth)

    with pytest.raises(AuthError) as excinfo:
        await _authenticate_header(header)

    response = api_error_response(excinfo.value)
    www_authenticate = response.headers["WWW-Authenticate"]
    _assert_spec_401(attack, response.status_code, json.loads(response.content), www_authenticate)
    _assert_not_logged(header, caplog)
    assert not await User.objects.aexists()


@pytest.mark.django_db
def test_valid_token_over_http_answers_me(client, better_auth, user):
    response = client.get(ME, headers=better_auth.bearer(user))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "better_auth_id": user.better_auth_id,
    }


@pytest.mark.django_db(transaction=True)
async def test_valid_token_through_aauthenticate_jwt(better_auth):
    token = better_auth.token(sub="ba_async_1", id="ba_async_1", email="a@example.com")

    user = await _authenticate_header(f"Bearer {token}")

    assert user.better_auth_id == "ba_async_1"
    assert user.email == "a@example.com"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("claim", "offset"), [("nbf", 20), ("iat", 20)], ids=["nbf_within_leeway", "iat_within_leeway"]
)
def test_clock_skew_within_leeway_is_accepted(client, better_auth, claim, offset):
    now = int(time.time())
    token = better_auth.token(**{claim: now + offset}, exp=now + 900)

    response = client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["better_auth_id"] == jwt.decode(token, options=UNVERIFIED)["sub"]


@pytest.mark.django_db
def test_scheme_is_case_insensitive(client, better_auth):
    token = better_auth.token()
    response = client.get(ME, headers={"Authorization": f"bearer {token}"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["better_auth_id"] == jwt.decode(token, options=UNVERIFIED)["sub"]


@pytest.mark.django_db
def test_session_login_also_answers_me(client, user):
    client.force_login(user)

    response = client.get(ME)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["id"] == user.id


@pytest.mark.django_db
def test_invalid_bearer_wins_over_a_valid_session(client, user):
    # A bad token is an error even when a session would have authenticated.
    client.force_login(user)

    response = client.get(ME, headers={"Authorization": "Bearer not-a-jwt"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"error": {"code": "auth_error", "message": "Malformed token."}}


@pytest.mark.django_db
def test_me_only_allows_get(client, better_auth):
    response = client.post(ME, headers=better_auth.bearer())

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_browsable_api_accept_header_still_gets_401_not_500(client, better_auth):
    # DEBUG adds DRF's browsable renderer, which reads request.user again.
    response = client.get(ME, headers={"Authorization": "Bearer nope", "Accept": "text/html"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert b"Malformed token." in response.content


@pytest.mark.slow
def test_real_daphne_verifies_against_better_auth_url(run_server, better_auth, user):
    """The env-configured stack: BETTER_AUTH_URL alone derives JWKS URL, iss and aud."""
    server = run_server(env={"BETTER_AUTH_URL": better_auth.url})

    ok = httpx.get(f"{server.url}{ME}", headers=better_auth.bearer(user))
    wrong_aud = httpx.get(f"{server.url}{ME}", headers=better_auth.bearer(user, aud="x"))
    big = httpx.get(f"{server.url}{ME}", headers=better_auth.bearer(user, pad="x" * 10_000))

    assert ok.status_code == HTTPStatus.OK, ok.text
    assert ok.json()["better_auth_id"] == user.better_auth_id
    assert wrong_aud.status_code == HTTPStatus.UNAUTHORIZED
    assert wrong_aud.json()["error"]["code"] == "auth_error"
    assert wrong_aud.headers["WWW-Authenticate"].startswith("Bearer")
    assert big.status_code == HTTPStatus.UNAUTHORIZED
    assert better_auth.fetch_count == 1
    assert wrong_aud.request.headers["Authorization"].split()[1][:40] not in server.log()


def _credential(header: str | None) -> str:
    """What a socket client would send: the header's token part."""
    return (header or "").split(" ", 1)[-1] if header and " " in header else (header or "")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("carrier", ["query", "subprotocol"])
@pytest.mark.parametrize("attack", ATTACKS)
async def test_attack_on_the_socket_is_closed_4401(attack, carrier, better_auth, caplog):
    """The same matrix on /ws/todos/: nothing but a valid ChatKit client secret opens it."""
    caplog.set_level(logging.DEBUG)
    credential = _credential(ATTACKS[attack](better_auth))
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if carrier == "query":
        path, subprotocols = f"/ws/todos/?token={quote(credential, safe='')}", None
    else:
        path, subprotocols = "/ws/todos/", [SECRET_SUBPROTOCOL, credential]
    socket = WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)

    connected, _ = await socket.connect(timeout=5)
    assert connected
    assert await socket.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }
    await socket.disconnect()
    _assert_not_logged(f"Bearer {credential}", caplog)
    assert not await User.objects.aexists()
