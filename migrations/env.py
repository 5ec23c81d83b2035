"""Alembic environment: async engines, batch mode (for SQLite), the adapters' metadata."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sqlalchemy.engine import ensure_database_file
from adapters.sqlalchemy.tables import metadata

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./bookly.db"

config = context.config
if config.config_file_name is not None and config.file_config.has_section("loggers"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """From `alembic_config()`, else alembic.ini, else (command line only) the environment."""
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    return url or os.environ.get("BOOKLY_DATABASE_URL", DEFAULT_DATABASE_URL)


def configure(**options: object) -> None:
    context.configure(
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        **options,  # type: ignore[arg-type]
    )


def run_offline() -> None:
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection: Connection) -> None:
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    # Its own engine: no pool, and no `foreign_keys=ON` on SQLite, where batch mode
    # recreates tables and a cascading foreign key would empty their children.
    url = database_url()
    ensure_database_file(url)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
