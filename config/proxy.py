"""The client's address behind trusted proxies, the same under every ASGI server.

SPEC "Revocation": the sign-in throttle counts the address the trusted proxy saw,
never a value the client chose. daphne's `--proxy-headers` trusts `X-Forwarded-For`
from any peer and takes its left-most value (the client's own); uvicorn with
`--forwarded-allow-ips "*"` does the same. So the servers run without proxy headers
(scripts/web-worker.sh) and this layer decides, from one setting:

- `TRUSTED_PROXIES` (env, comma list of addresses or networks, e.g.
  `127.0.0.1,10.0.0.0/8`): unset, `X-Forwarded-For` is never read.
- A request from a trusted peer takes the right-most address of `X-Forwarded-For`
  that is not itself a trusted proxy (what the nearest untrusted hop was seen as);
  every hop trusted, the left-most. A hop that is not an address ends the walk and
  the peer's own address stays. From any other peer the header changes nothing.

The address lands in the scope's `client`, which Django turns into REMOTE_ADDR (the
only address django-axes reads: AXES_IPWARE_META_PRECEDENCE_ORDER).

`X-Forwarded-Proto` (Django's SECURE_PROXY_SSL_HEADER with DJANGO_DEBUG=0: what makes
`request.is_secure()`, the HTTPS redirect, and a websocket's own origin) counts only from
a trusted peer too: from any other peer, or with `TRUSTED_PROXIES` unset, the header is
taken out of the scope, so a client cannot claim https over plain http.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_HEADER = b"x-forwarded-for"
_PROTO = b"x-forwarded-proto"


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` entries as networks (a bare address is a /32 or /128)."""
    try:
        return tuple(
            ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    # A dual-stack listener (HOST=::) sees an IPv4 peer as ::ffff:a.b.c.d: the same host.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def _trusted(address: Any, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, networks: tuple[Network, ...]) -> str:
    """The client's address: `peer`'s own, or the one a trusted `peer` forwards."""
    if forwarded_for is None or not _trusted(_address(peer), networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    found = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # not an address: nothing of the header is trusted
        found = str(address)
        if not _trusted(address, networks):
            break
    return found


class TrustedProxyMiddleware:
    """ASGI: `scope["client"]` from `X-Forwarded-For`, and `X-Forwarded-Proto` kept, only
    when the peer is trusted."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._configured: object = None
        self._networks: tuple[Network, ...] = ()
        self.networks  # noqa: B018 - a bad setting fails at start, not at the first request

    @property
    def networks(self) -> tuple[Network, ...]:
        """TRUSTED_PROXIES, parsed again only when the setting changes (tests)."""
        configured = getattr(settings, "TRUSTED_PROXIES", ())
        if configured is not self._configured:
            self._networks = parse_networks(configured)
            self._configured = configured
        return self._networks

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        client = scope.get("client")
        headers = scope.get("headers") or ()
        networks = self.networks
        trusted = bool(networks and client) and _trusted(_address(str(client[0])), networks)
        if not trusted:
            if any(name.lower() == _PROTO for name, _ in headers):
                kept = [(name, value) for name, value in headers if name.lower() != _PROTO]
                scope = {**scope, "headers": kept}
            return await self.app(scope, receive, send)
        values = [v for k, v in headers if k.lower() == _HEADER]
        if values:
            forwarded = b",".join(values).decode("latin-1")
            address = client_address(str(client[0]), forwarded, networks)
            if address != client[0]:
                scope = {**scope, "client": (address, 0)}
        return await self.app(scope, receive, send)
