"""The unit tests' in-memory store keeps the SQL schema's rules (tests/persistence_contract.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from application.ports.persistence import UnitOfWorkFactory
from tests.fakes.persistence import MemoryDatabase
from tests.persistence_contract import PERSISTENCE_CHECKS


@pytest.mark.parametrize("check", PERSISTENCE_CHECKS, ids=lambda check: check.__name__)
async def test_the_memory_store_keeps_the_schemas_rules(
    check: Callable[[UnitOfWorkFactory], Awaitable[None]],
) -> None:
    await check(MemoryDatabase().unit_of_work)
