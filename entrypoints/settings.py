"""All configuration: one pydantic-settings class, read from BOOKLY_* variables or `.env`."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    allowed_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1"]
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19_456, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    database_pool_size: int = Field(default=10, ge=1)
    dependency_timeout_seconds: float = Field(default=1.5, gt=0)

    _split_lists = field_validator("cors_origins", "allowed_hosts", mode="before")(
        classmethod(lambda cls, value: _split_csv(value))
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

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
