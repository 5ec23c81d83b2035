"""Which `Host` headers are served: the header's grammar and BOOKLY_ALLOWED_HOSTS.

A Host header is `host [":" port]` (RFC 9110 section 7.2, RFC 3986 section 3.2.2):

- host: an IPv6 address in brackets (`[::1]`), an IPv4 address, or a name of letters,
  digits, `-` and `.`; compared without regard to case, one trailing dot ignored;
- port: 1 to 5 digits, at most 65535; an empty port (`host:`) is no port.

Anything else is malformed and refused: userinfo (`localhost:8899@evil.example`), a
second colon (`127.0.0.1:80.evil.example`), spaces, a port that is not a number, an empty
host. Splitting at the last colon, as a quick check would, serves those two examples.

Entries of BOOKLY_ALLOWED_HOSTS follow the same grammar. An entry without a port allows
its host on any port; one with a port (`api.example.com:8443`, `[::1]:8000`) only a Host
header that names that port. A bare IPv6 address (`::1`) counts as `[::1]`. `*` allows
any host, but the header must still be well-formed; a request without a Host header
(HTTP/1.0) is served only under `*`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

HOST = re.compile(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::([0-9]{0,5}))?")
ANY_HOST = "*"
SERVED_REMEMBERED = 64  # Host headers found good, answered by one set lookup next time


def parse_host(text: str) -> tuple[str, int | None] | None:
    """(host, port or None) of a Host header, the host lower-case (an IPv6 address in its
    short form, in brackets); None when the header is malformed."""
    match = HOST.fullmatch(text)
    if match is None:
        return None
    literal, name, port = match.groups()
    if literal is not None:
        try:
            host = f"[{ipaddress.IPv6Address(literal).compressed}]"
        except ValueError:
            return None
    else:
        host = name.lower().removesuffix(".")
        if not host:
            return None
    if not port:
        return host, None
    number = int(port)
    return (host, number) if number <= 65535 else None


def parse_entry(entry: str) -> tuple[str, int | None]:
    """An entry of BOOKLY_ALLOWED_HOSTS as (host, port or None); ValueError if malformed."""
    parsed = parse_host(entry)
    if parsed is None and ":" in entry and "[" not in entry:
        parsed = parse_host(f"[{entry}]")  # a bare IPv6 address
    if parsed is None:
        raise ValueError(
            f"BOOKLY_ALLOWED_HOSTS: {entry!r} is not a host name, an IPv4 "
            "address or an [IPv6] address, with an optional :port"
        )
    return parsed


class AllowedHosts:
    """The Host check of every request: a set lookup for a header found good before (the
    few that clients send), otherwise one regular expression and a set lookup."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = list(entries)
        self.any_host = ANY_HOST in entries
        self._any_port: set[str] = set()
        self._on_port: set[tuple[str, int]] = set()
        self._served: set[bytes] = set()
        for entry in entries:
            if entry == ANY_HOST:
                continue
            host, port = parse_entry(entry)
            if port is None:
                self._any_port.add(host)
            else:
                self._on_port.add((host, port))

    def allows(self, header: bytes | None) -> bool:
        """Whether a request whose Host header is `header` (None: it sent none) is served."""
        if header is None:
            return self.any_host
        if header in self._served:
            return True
        parsed = parse_host(header.decode("latin-1"))
        if parsed is None:
            return False
        host, port = parsed
        served = (
            self.any_host
            or host in self._any_port
            or (port is not None and (host, port) in self._on_port)
        )
        if served and len(self._served) < SERVED_REMEMBERED:
            self._served.add(header)
        return served
