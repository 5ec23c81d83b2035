"""The client's address behind trusted proxies (the security headers: `EdgeMiddleware`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


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
