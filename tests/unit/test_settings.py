"""Production refuses to start on settings that would be unsafe."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from entrypoints.http.security import ClientAddress
from entrypoints.settings import Settings

PG = "postgresql+asyncpg://bookly@db/bookly"
GOOD = {"env": "production", "database_url": PG, "secret_key": "k" * 40}


def test_production_with_safe_settings_starts():
    assert Settings(_env_file=None, **GOOD).secret_key == "k" * 40


@pytest.mark.parametrize(("change", "reason"), [
    ({"secret_key": None}, "BOOKLY_SECRET_KEY"),
    ({"secret_key": "short"}, "BOOKLY_SECRET_KEY"),
    ({"database_url": "sqlite+aiosqlite:///./bookly.db"}, "PostgreSQL"),
    ({"cors_origins": "*"}, "wildcard"),
])
def test_production_refuses_unsafe_settings(change, reason):
    with pytest.raises(ValidationError, match=reason):
        Settings(_env_file=None, **{**GOOD, **change})


def test_development_makes_a_secret_once_and_keeps_it(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'bookly.db'}"
    first = Settings(_env_file=None, database_url=url).resolved_secret_key()
    assert len(first) >= 32
    assert Settings(_env_file=None, database_url=url).resolved_secret_key() == first
    assert (tmp_path / "db" / ".bookly-secret").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("10.0.0.5", "203.0.113.9", [], "10.0.0.5"),
    ("10.0.0.5", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
    ("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7", ["10.0.0.0/8"], "203.0.113.9"),
    ("192.0.2.1", "203.0.113.9", ["10.0.0.0/8"], "192.0.2.1"),
    ("10.0.0.5", "not-an-ip", ["10.0.0.0/8"], "not-an-ip"),
    ("10.0.0.5", None, ["10.0.0.0/8"], "10.0.0.5"),
])
def test_client_address(peer, forwarded, trusted, expected):
    assert ClientAddress(trusted).of(peer, forwarded) == expected
