"""One error for "a service Bookly needs cannot serve now", whichever driver said so."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from domain.errors import ServiceUnavailable


class Unavailable:
    """Around a driver call (`with DATABASE_ERRORS:`), or given the error that ended one
    (`raise_for`): a failure its predicate judges "cannot serve now" leaves as
    `ServiceUnavailable(dependency)`, caused by the driver's error; any other passes
    unchanged. Stateless, so one instance serves every call."""

    __slots__ = ("_dependency", "_detail", "_is_unavailable")

    def __init__(
        self, dependency: str, detail: str, is_unavailable: Callable[[BaseException], bool]
    ) -> None:
        self._dependency = dependency
        self._detail = detail
        self._is_unavailable = is_unavailable

    def raise_for(self, error: BaseException | None) -> None:
        if (
            error is not None
            and not isinstance(error, ServiceUnavailable)
            and self._is_unavailable(error)
        ):
            raise ServiceUnavailable(self._dependency, self._detail) from error

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.raise_for(error)
