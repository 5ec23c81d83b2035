"""Imperative mapping: domain classes stay plain; the tables are described in `tables`."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import registry

from adapters.sqlalchemy.tables import metadata, users
from domain.users import User

mapper_registry = registry(metadata=metadata)


def start_mappers() -> None:
    """Map the domain classes; calling it again is harmless."""
    if inspect(User, raiseerr=False) is not None:
        return
    mapper_registry.map_imperatively(User, users)
