from __future__ import annotations

import pytest

from tests.unit.harness import Harness, build_harness


@pytest.fixture
def harness() -> Harness:
    return build_harness()
