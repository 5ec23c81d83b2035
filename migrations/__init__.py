"""Alembic migrations, shipped with the package so they run wherever it is installed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """A configuration for `database_url` that needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # The URL goes in as an attribute: it is not subject to ini-style '%' interpolation.
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    """Synchronous; from async code call it with `asyncio.to_thread`."""
    command.upgrade(alembic_config(database_url), "head")


def downgrade_to(database_url: str, revision: str) -> None:
    """Synchronous; from async code call it with `asyncio.to_thread`."""
    command.downgrade(alembic_config(database_url), revision)
