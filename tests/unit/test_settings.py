"""Production refuses to start on settings that would be unsafe."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from entrypoints.container import configuration
from entrypoints.http.security import ClientAddress
from entrypoints.settings import Settings

PG = "postgresql+asyncpg://bookly@db/bookly"
GOOD = {"env": "production", "database_url": PG, "secret_key": "k" * 40}


def test_production_with_safe_settings_starts():
    assert Settings(_env_file=None, **GOOD).secret_key == "k" * 40


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"secret_key": None}, "BOOKLY_SECRET_KEY"),
        ({"secret_key": "short"}, "BOOKLY_SECRET_KEY"),
        ({"database_url": "sqlite+aiosqlite:///./bookly.db"}, "PostgreSQL"),
        ({"cors_origins": "*"}, "wildcard"),
    ],
)
def test_production_refuses_unsafe_settings(change, reason):
    with pytest.raises(ValidationError, match=reason):
        Settings(_env_file=None, **{**GOOD, **change})


def test_development_makes_a_secret_once_and_keeps_it(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'bookly.db'}"
    first = Settings(_env_file=None, database_url=url).resolved_secret_key()
    assert len(first) >= 32
    assert Settings(_env_file=None, database_url=url).resolved_secret_key() == first
    assert (tmp_path / "db" / ".bookly-secret").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("10.0.0.5", "203.0.113.9", [], "10.0.0.5"),
        ("10.0.0.5", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7", ["10.0.0.0/8"], "203.0.113.9"),
        ("192.0.2.1", "203.0.113.9", ["10.0.0.0/8"], "192.0.2.1"),
        ("10.0.0.5", "not-an-ip", ["10.0.0.0/8"], "not-an-ip"),
        ("10.0.0.5", None, ["10.0.0.0/8"], "10.0.0.5"),
    ],
)
def test_client_address(peer, forwarded, trusted, expected):
    assert ClientAddress(trusted).of(peer, forwarded) == expected


# OWASP Password Storage Cheat Sheet, argon2id minimums: (memory KiB, iterations), p=1.
OWASP_ARGON2ID = [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5)]


def test_default_argon2_parameters_meet_owasps_minimum():
    settings = Settings(_env_file=None)
    assert settings.argon2_parallelism >= 1
    assert any(
        settings.argon2_memory_kib >= memory and settings.argon2_time_cost >= passes
        for memory, passes in OWASP_ARGON2ID
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"redis_url": "redis://r"}, 60),
        ({"redis_url": "redis://r", "session_cache_seconds": 600}, 300),  # capped by accounts
        ({"redis_url": "redis://r", "account_cache_seconds": 20}, 20),
        ({"redis_url": "redis://r", "session_cache_seconds": 0}, 0),
        ({}, 0),  # no Redis: no channel to hear revocations on, so no cache
    ],
)
def test_a_workers_session_cache_never_outlives_the_cached_account(values, expected):
    settings = Settings(_env_file=None, secret_key="k" * 40, **values)
    assert configuration(settings)["session_cache_ttl"] == expected


@pytest.mark.parametrize(
    "entry",
    [
        "http://api.example.com",
        "api.example.com:https",
        "user@api.example.com",
        "api.example.com:65536",
        "*.example.com",
        "[::1",
        "a b",
    ],
)
def test_allowed_hosts_refuse_entries_no_host_header_could_match(entry):
    with pytest.raises(ValidationError, match="BOOKLY_ALLOWED_HOSTS"):
        Settings(_env_file=None, allowed_hosts=f"localhost,{entry}")


def test_allowed_hosts_take_ports_ipv6_and_the_wildcard():
    entries = "api.example.com:8443,[::1]:8000,::1,127.0.0.1,*"
    assert Settings(_env_file=None, allowed_hosts=entries).allowed_hosts == entries.split(",")


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"redis_url": "redis://r", "database_url": "sqlite+aiosqlite:///./b.db"}, "PostgreSQL"),
        ({"redis_url": "redis://r", "database_replica_urls": "mysql://replica/b"}, "PostgreSQL"),
        ({}, "BOOKLY_REDIS_URL"),
    ],
)
def test_replicas_need_postgresql_and_redis(values, reason):
    with pytest.raises(ValidationError, match=reason):
        Settings(
            _env_file=None,
            **{"database_url": PG, "database_replica_urls": f"{PG}-r1,{PG}-r2", **values},
        )


def test_replica_urls_are_comma_separated():
    settings = Settings(
        _env_file=None,
        database_url=PG,
        redis_url="redis://r",
        database_replica_urls=f" {PG}-r1 , {PG}-r2 ",
    )
    assert settings.database_replica_urls == [f"{PG}-r1", f"{PG}-r2"]
    assert configuration(settings)["reads"] == "replicas"
    assert configuration(Settings(_env_file=None))["reads"] == "primary"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, "http://c:4318/v1/traces"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/spans",
            },
            "http://t:4318/spans",
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, None),
    ],
)
def test_tracing_follows_opentelemetrys_own_variables(monkeypatch, values, expected):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None).traces_url == expected
