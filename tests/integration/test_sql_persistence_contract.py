"""The SQL adapter on both databases: the rules the in-memory store is held to
(tests/persistence_contract.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from application.ports.persistence import UnitOfWorkFactory
from tests.persistence_contract import PERSISTENCE_CHECKS


@pytest.mark.parametrize("check", PERSISTENCE_CHECKS, ids=lambda check: check.__name__)
async def test_the_sql_store_keeps_the_schemas_rules(
    check: Callable[[UnitOfWorkFactory], Awaitable[None]], uow_factory: UnitOfWorkFactory
) -> None:
    await check(uow_factory)
