"""config/proxy.py: the client's address is the peer's, or what a trusted proxy forwarded
(the right-most hop that is not itself a trusted proxy); never what a client wrote."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.proxy import TrustedProxyMiddleware, client_address, parse_networks

NGINX = parse_networks(["127.0.0.1", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # From a trusted proxy: the address it saw.
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
        # A client's own value before the proxy's is not believed: the right-most wins.
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        # Trusted hops are skipped; every hop trusted: the left-most.
        ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),
        ("127.0.0.1", "10.9.9.9, 10.1.2.3", "10.9.9.9"),
        ("127.0.0.1", "garbage, 203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "203.0.113.7, garbage", "127.0.0.1"),
        ("127.0.0.1", "[2001:db8::1]", "2001:db8::1"),
        # A dual-stack listener (HOST=::) sees IPv4 peers as IPv4-mapped IPv6.
        ("::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "203.0.113.7, ::ffff:10.1.2.3", "203.0.113.7"),
        ("::ffff:203.0.113.9", "198.51.100.1", "::ffff:203.0.113.9"),
        # From anyone else the header changes nothing.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("127.0.0.2", "198.51.100.1", "127.0.0.2"),
        ("127.0.0.1", None, "127.0.0.1"),
    ],
)
def test_client_address(peer, forwarded_for, expected):
    assert client_address(peer, forwarded_for, NGINX) == expected


def test_a_bad_setting_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        parse_networks(["nginx"])


async def _seen_client(settings, trusted: list[str], peer: str, headers: list) -> object:
    settings.TRUSTED_PROXIES = trusted
    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"]

    scope = {"type": "http", "client": (peer, 5555), "headers": headers}
    await TrustedProxyMiddleware(app)(scope, None, None)
    return seen["client"]


async def test_the_layer_rewrites_the_scope_only_for_a_trusted_peer(settings):
    spoofed = [(b"x-forwarded-for", b"198.51.100.1")]
    assert await _seen_client(settings, [], "127.0.0.1", spoofed) == ("127.0.0.1", 5555)
    assert await _seen_client(settings, ["127.0.0.1"], "127.0.0.1", spoofed) == (
        "198.51.100.1",
        0,
    )
    assert await _seen_client(settings, ["127.0.0.1"], "127.0.0.9", spoofed) == (
        "127.0.0.9",
        5555,
    )
    # Two headers are one list, in order.
    twice = [(b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded-for", b"203.0.113.7")]
    assert await _seen_client(settings, ["127.0.0.1"], "127.0.0.1", twice) == ("203.0.113.7", 0)


async def _seen_headers(settings, trusted: list[str], peer: str, headers: list) -> list:
    settings.TRUSTED_PROXIES = trusted
    seen = {}

    async def app(scope, receive, send):
        seen["headers"] = scope["headers"]

    scope = {"type": "http", "client": (peer, 5555), "headers": headers}
    await TrustedProxyMiddleware(app)(scope, None, None)
    return seen["headers"]


async def test_x_forwarded_proto_is_kept_only_from_a_trusted_peer(settings):
    claim = [(b"host", b"localhost"), (b"X-Forwarded-Proto", b"https")]
    assert await _seen_headers(settings, ["127.0.0.1"], "127.0.0.1", claim) == claim
    for trusted, peer in ([], "127.0.0.1"), (["127.0.0.1"], "127.0.0.9"):
        assert await _seen_headers(settings, trusted, peer, claim) == [(b"host", b"localhost")]
