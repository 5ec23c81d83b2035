"""Security headers on every response, and the client's address behind trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
            "frame-ancestors 'none'; base-uri 'none'")


class SecurityHeadersMiddleware:
    """nosniff, no framing, no referrer, a strict CSP (a looser one on the docs pages,
    which run Swagger UI and ReDoc), and HSTS when `hsts_seconds` is set (production)."""

    def __init__(self, app: ASGIApp, docs_prefixes: Iterable[str], hsts_seconds: int = 0
                 ) -> None:
        self.app = app
        self.docs_prefixes = tuple(docs_prefixes)
        common = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                  (b"referrer-policy", b"no-referrer")]
        if hsts_seconds:
            common.append((b"strict-transport-security",
                           f"max-age={hsts_seconds}; includeSubDomains".encode()))
        self.api_headers = [*common, (b"content-security-policy", API_CSP.encode())]
        self.docs_headers = [*common, (b"content-security-policy", DOCS_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "").startswith(self.docs_prefixes)
        extra = self.docs_headers if docs else self.api_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ClientAddress:
    """The socket's peer, unless that peer is a trusted proxy: then the nearest address in
    X-Forwarded-For that is not itself a trusted proxy."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(item, strict=False) for item in trusted]

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        address = peer or "unknown"
        if not self.networks or not self._trusted(address) or not forwarded_for:
            return address
        for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
            if not hop:
                continue
            address = hop
            if not self._trusted(hop):
                break
        return address
