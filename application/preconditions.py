"""A caller's condition on the state it is about to change (HTTP's If-Match, say)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Given the resource as it is now, under its row's lock, raises (PreconditionFailed)
# unless the caller's condition holds; the use case then changes nothing.
Precondition = Callable[[T], None]
