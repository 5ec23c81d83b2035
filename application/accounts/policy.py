"""The knobs of the account system, set once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    public_url: str = "http://127.0.0.1:8000"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 604_800
    verify_link_ttl_seconds: int = 48 * 3600
    reset_link_ttl_seconds: int = 3600
    max_failed_logins: int = 5
    failed_login_window_seconds: int = 15 * 60

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + path
