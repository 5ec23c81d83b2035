"""The knobs of the account system, set once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 604_800
    verify_link_ttl_seconds: int = 48 * 3600
    reset_link_ttl_seconds: int = 3600
    max_failed_logins: int = 5
    failed_login_window_seconds: int = 15 * 60
