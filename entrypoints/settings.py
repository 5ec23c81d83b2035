"""All configuration: one pydantic-settings class, read from BOOKLY_* variables or `.env`."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from entrypoints.hosts import AllowedHosts

MIN_SECRET_LENGTH = 32
SECRET_FILE_NAME = ".bookly-secret"  # noqa: S105 - a file name


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOOKLY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./bookly.db"
    redis_url: str | None = None
    redis_key_prefix: str = "bookly:"
    # With Redis: how long an account (role, active flag, profile) is cached for the
    # requests that authenticate; changes drop it at once. 0 turns the cache off.
    account_cache_seconds: int = Field(default=300, ge=0)
    # With Redis: how long a worker answers a session it checked recently from memory
    # (revocations reach the other workers within moments through Redis pub/sub; this
    # bounds what no message reports). At most account_cache_seconds; 0: every request asks Redis.
    session_cache_seconds: int = Field(default=60, ge=0)
    broker_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    public_url: str = "http://127.0.0.1:8000"
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=604_800, gt=0)
    verify_link_ttl_seconds: int = Field(default=48 * 3600, gt=0)
    reset_link_ttl_seconds: int = Field(default=3600, gt=0)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Bookly <no-reply@bookly.local>"
    mail_outbox_dir: Path = Path("./outbox")
    rate_limits_enabled: bool = True
    ip_rate_limit: int = Field(default=30, gt=0)  # requests per window per client IP
    ip_rate_window_seconds: int = Field(default=60, gt=0)
    cors_origins: Annotated[list[str], NoDecode] = []
    # Host headers served: `name`, `1.2.3.4` or `[::1]`, each with an optional `:port`
    # (then only that port), or `*` for any well-formed one (rule: `entrypoints.hosts`).
    allowed_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1"]
    trusted_proxies: Annotated[list[str], NoDecode] = []  # IPs/CIDRs allowed to set X-Forwarded-For
    hsts_seconds: int = Field(default=31_536_000, ge=0)  # sent in production only
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    # How long the first answer to a POST sent with an Idempotency-Key is kept for retries.
    idempotency_ttl_seconds: int = Field(default=86_400, gt=0)
    # PATCH and DELETE of what carries an ETag must send If-Match (else 428).
    require_if_match: bool = False
    # On SIGTERM, `bookly serve` answers /ready with 503 at once but goes on serving this
    # long (so that a load balancer stops sending first), then stops accepting and lets
    # requests in flight finish, for at most shutdown_grace_seconds.
    shutdown_delay_seconds: float = Field(default=0.0, ge=0)
    shutdown_grace_seconds: int = Field(default=30, gt=0)
    # argon2id: the least-memory of OWASP's five minimum settings, which it rates equally
    # strong (7 MiB and 5 passes rather than 19 MiB and 2): a third of the memory per hash,
    # and less memory traffic shared with the event loop and the databases, so concurrent
    # verifies scale better (the benchmark measures the verify rate: argon2_rate.py).
    # Hashes stored with other parameters are hashed again at their next login.
    argon2_time_cost: int = Field(default=5, ge=1)
    argon2_memory_kib: int = Field(default=7_168, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Threads that hash and verify passwords; by default all cores but one, so a storm of
    # logins never takes the core the event loop needs.
    argon2_threads: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1)
    # SCHED_IDLE (Linux): hashing runs only on CPU the event loop and the databases leave.
    argon2_idle_priority: bool = True
    database_pool_size: int = Field(default=10, ge=1)
    # PostgreSQL streaming replicas (comma-separated URLs) for the catalogue's reads; a
    # replica further behind the primary than replica_max_lag_seconds is skipped
    # (the rules: adapters/sqlalchemy/replicas.py). Needs Redis: it keeps where each
    # user's last write is, for every API process.
    database_replica_urls: Annotated[list[str], NoDecode] = []
    replica_max_lag_seconds: float = Field(default=5.0, gt=0)
    dependency_timeout_seconds: float = Field(default=1.5, gt=0)
    # Background work: the mail outbox and its relay, mail retries, the Celery worker, Flower.
    outbox_poll_seconds: float = Field(default=1.0, gt=0)  # the relay's look at due jobs
    outbox_redispatch_after_seconds: float = Field(default=900.0, gt=0)  # lost in the broker
    outbox_retention_days: int = Field(default=14, ge=1)  # finished jobs are then deleted
    mail_max_attempts: int = Field(default=8, ge=1)
    mail_retry_base_seconds: float = Field(default=10.0, ge=0)  # backoff: base * 2**n, jittered
    mail_retry_max_seconds: float = Field(default=600.0, ge=0)
    task_soft_time_limit_seconds: float = Field(default=30.0, gt=0)
    task_time_limit_seconds: float = Field(default=45.0, gt=0)
    broker_visibility_timeout_seconds: int = Field(default=3600, gt=0)
    worker_concurrency: int = Field(default=2, ge=1)
    flower_port: int = Field(default=5555, gt=0, lt=65536)
    flower_user: str | None = None
    flower_password: str | None = Field(default=None, repr=False)
    # GET /metrics (Prometheus): unset → on outside production, in production only with a token.
    metrics_enabled: bool | None = None
    metrics_token: str | None = Field(default=None, repr=False)  # then scrapes need this Bearer
    # prometheus_client's own variable (it reads it too): the folder where several uvicorn
    # workers pool their samples. `bookly serve --workers N` sets it for its workers.
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR")
    )

    # OpenTelemetry's own variables that decide whether and what Bookly traces
    # (entrypoints/tracing.py); its SDK reads the others (headers, sampler, batching).
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    otel_sdk_disabled: bool = Field(
        default=False, validation_alias=AliasChoices("OTEL_SDK_DISABLED")
    )
    otel_excluded_urls: str = Field(
        default="/health,/ready,/metrics",  # probes and scrapes
        validation_alias=AliasChoices(
            "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "OTEL_PYTHON_EXCLUDED_URLS"
        ),
    )

    _split_lists = field_validator(
        "cors_origins", "allowed_hosts", "trusted_proxies", "database_replica_urls", mode="before"
    )(classmethod(lambda cls, value: _split_csv(value)))

    @field_validator("allowed_hosts")
    @classmethod
    def _well_formed_hosts(cls, entries: list[str]) -> list[str]:
        AllowedHosts(entries)  # ValueError naming a malformed entry
        return entries

    @field_validator(
        "metrics_enabled",
        "metrics_token",
        "otel_exporter_otlp_endpoint",
        "otel_exporter_otlp_traces_endpoint",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def metrics_exposed(self) -> bool:
        if self.metrics_enabled is not None:
            return self.metrics_enabled
        return self.env is not Environment.PRODUCTION or self.metrics_token is not None

    @property
    def traces_url(self) -> str | None:
        """Where spans go (OTLP over HTTP), as OpenTelemetry's SDK reads its variables:
        the traces endpoint as given, or the general one with `/v1/traces`; None: no
        tracing."""
        if self.otel_sdk_disabled:
            return None
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint.strip()
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.strip().rstrip("/") + "/v1/traces"
        return None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _background_limits(self) -> Self:
        if self.task_soft_time_limit_seconds >= self.task_time_limit_seconds:
            raise ValueError(
                "BOOKLY_TASK_SOFT_TIME_LIMIT_SECONDS must be below BOOKLY_TASK_TIME_LIMIT_SECONDS"
            )
        if self.mail_retry_max_seconds < self.mail_retry_base_seconds:
            raise ValueError(
                "BOOKLY_MAIL_RETRY_MAX_SECONDS must be at least BOOKLY_MAIL_RETRY_BASE_SECONDS"
            )
        if self.outbox_redispatch_after_seconds <= self.task_lease_seconds:
            raise ValueError(
                "BOOKLY_OUTBOX_REDISPATCH_AFTER_SECONDS must exceed the task "
                "time limit by a quarter"
            )
        return self

    @model_validator(mode="after")
    def _replicas_need(self) -> Self:
        if not self.database_replica_urls:
            return self
        postgres = "postgresql+asyncpg://"
        if not self.database_url.startswith(postgres) or not all(
            url.startswith(postgres) for url in self.database_replica_urls
        ):
            raise ValueError(
                "BOOKLY_DATABASE_REPLICA_URLS needs PostgreSQL: the database and each "
                f"replica as {postgres}..."
            )
        if not self.redis_url:
            raise ValueError(
                "BOOKLY_DATABASE_REPLICA_URLS needs BOOKLY_REDIS_URL: it keeps where each "
                "user's last write is, so that every API process reads it back"
            )
        return self

    @property
    def task_lease_seconds(self) -> float:
        """How long an attempt holds its job: past the hard time limit it cannot be running."""
        return self.task_time_limit_seconds * 1.25

    @model_validator(mode="after")
    def _strict_in_production(self) -> Self:
        if self.env is not Environment.PRODUCTION:
            return self
        if not self.secret_key or len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"BOOKLY_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters "
                "in production"
            )
        if self.is_sqlite:
            raise ValueError("production needs PostgreSQL: set BOOKLY_DATABASE_URL")
        if "*" in self.cors_origins:
            raise ValueError("a wildcard CORS origin is refused in production")
        return self

    def resolved_secret_key(self) -> str:
        """The configured key; in development, one generated once and kept beside the database."""
        if self.secret_key:
            return self.secret_key
        if self.env is Environment.PRODUCTION:  # unreachable after validation
            raise ValueError("BOOKLY_SECRET_KEY is required in production")
        path = self._secret_file()
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key, encoding="utf-8")
        return key

    def _secret_file(self) -> Path:
        if self.is_sqlite and ":///" in self.database_url:
            db_path = self.database_url.split(":///", 1)[1].split("?", 1)[0]
            if db_path and db_path != ":memory:":
                return Path(db_path).expanduser().resolve().parent / SECRET_FILE_NAME
        return Path.cwd() / SECRET_FILE_NAME
