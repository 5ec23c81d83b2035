"""The catalogue's reads on PostgreSQL streaming replicas, with read-your-writes.

Positions are places in the primary's write-ahead log (WAL), as bytes since `0/0`. Every
API process watches its replicas (`Replicas.watch`), every `check_seconds`:

1. it asks the primary where its WAL ends now (a *sample*: time, position), then
2. asks each replica how far it has replayed.

A replica that has replayed up to a sample holds everything the primary had committed
when that sample was taken; its *lag* is the age of the newest such sample. A replica is
chosen for a read only if it answered the last check, is a standby still, and its lag
is at most `max_lag` now (lag grows between checks: it is reckoned at each read).

**The promise.** A read is sent to a replica only when the replica is known (from the
last check) to have replayed the reader's *floor* (`READ_FLOOR`, which the HTTP layer
sets): the position the primary had reached after the reader's last write, and the
primary as it was at a moment (the reader's log-in). So a client sees its own writes on
its next read, in any API process, whatever the replicas' lag: until a check has seen a
replica reach the write, the reader's reads go to the primary. Anyone else's writes are
seen within `max_lag` of their commit. Each page is read on one server:
one statement, or one unit of work.

A replica that refuses a connection, or fails a read because it cannot serve now or
because replay cancelled the read (a recovery conflict), is dropped until the next
check shows it well, and the read is run again on the primary (reading twice changes
nothing). With no replica fit, every read goes to the primary: without replicas
configured, none of this is built.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from sqlalchemy import literal_column, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sqlalchemy.book_reads import PoolRows, Rows
from adapters.sqlalchemy.catalogue import AnySelect, NamedRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from domain.errors import ServiceUnavailable

log = structlog.get_logger("bookly.replicas")

# Where the primary's WAL ends, and how far a standby has replayed, in bytes since 0/0.
PRIMARY_POSITION: AnySelect = select(
    literal_column("pg_current_wal_lsn() - '0/0'::pg_lsn").label("position")
)
REPLAYED_POSITION: AnySelect = select(
    literal_column("pg_last_wal_replay_lsn() - '0/0'::pg_lsn").label("position"),
    literal_column("pg_is_in_recovery()").label("standby"),
)
# What this request's reads must see, which the HTTP layer sets and the routing reads: a
# WAL position (0: none) and a wall-clock time (seconds since the epoch) the server read
# must have caught up with the primary as of.
Floor = tuple[int, float]
ANYWHERE: Floor = (0, float("-inf"))
READ_FLOOR: ContextVar[Floor] = ContextVar("bookly_read_floor", default=ANYWHERE)
# What a replica's failed read means "read it on the primary instead": it cannot serve
# now, or replay cancelled the read (recovery conflicts are SQLSTATE class 40 there).
REPLICA_FAILURES = (ServiceUnavailable, asyncpg.TransactionRollbackError)


def check_interval(max_lag: float) -> float:
    """How often each API process checks its replicas."""
    return min(1.0, max_lag / 4)


def position_ttl(max_lag: float) -> float:
    """How long a user's write position must be kept: by then any replica fit for reads
    has replayed past it (a fit replica's lag is at most `max_lag`, as of a check)."""
    return max_lag + 2 * check_interval(max_lag) + 1.0


def described(url: str) -> str:
    """A replica as the logs name it: host, port and database, no credentials."""
    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"


@dataclass(eq=False)
class Replica:
    name: str
    rows: PoolRows
    engine: AsyncEngine
    sessions: async_sessionmaker[Any]
    replayed: int = -1  # as of the last check; -1 before the first answer
    # when the primary was where the replica has replayed to: monotonic, and wall clock
    caught_up_at: float = float("-inf")
    caught_up_wall: float = float("-inf")
    well: bool = False  # answered the last check, as a standby
    behind: bool = False  # further behind than the lag allowed, at the last check


@dataclass(eq=False)
class Replicas:
    """The replicas, what the last check knew of them, and the choice of one for a read."""

    primary: Rows
    replicas: Sequence[Replica]
    max_lag: float
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    check_seconds: float = field(init=False)
    _samples: collections.deque[tuple[float, float, int]] = field(
        init=False, default_factory=collections.deque
    )
    _turns: itertools.cycle[int] = field(init=False)

    def __post_init__(self) -> None:
        self.check_seconds = check_interval(self.max_lag)
        self._turns = itertools.cycle(range(max(1, len(self.replicas))))

    def choose(self, floor: Floor = ANYWHERE) -> Replica | None:
        """A replica fit to serve a read that must see `floor`, taken in turn; None: the
        primary."""
        position, since = floor
        oldest = self.clock() - self.max_lag
        for _ in range(len(self.replicas)):
            replica = self.replicas[next(self._turns)]
            if (
                replica.well
                and replica.caught_up_at >= oldest
                and replica.replayed >= position
                and replica.caught_up_wall >= since
            ):
                return replica
        return None

    def lost(self, replica: Replica, error: BaseException) -> None:
        """`replica` failed a read: not chosen again before a check finds it well."""
        if replica.well:
            log.warning("replica_unavailable", replica=replica.name, error=str(error))
        replica.well = False

    async def aclose(self) -> None:
        """Closes every replica's pool and engine (the primary's are the container's)."""
        for replica in self.replicas:
            await replica.rows.aclose()
            await replica.engine.dispose()

    async def position(self) -> int:
        """Where the primary's WAL ends now: past every write committed before the call."""
        rows = await self.primary(PRIMARY_POSITION, {})
        return int(rows[0]["position"])

    async def check(self) -> None:
        """Samples the primary, then asks every replica how far it has replayed."""
        try:
            self._sample(self.clock(), self.wall_clock(), await self.position())
        except Exception as error:  # the primary is down: replicas age until it is back
            log.warning("primary_position_unknown", error=str(error))
        await asyncio.gather(*(self._check(replica) for replica in self.replicas))

    def _sample(self, now: float, wall: float, position: int) -> None:
        self._samples.append((now, wall, position))
        # Samples older than a fit replica's lag may be dropped; the newest one stays.
        keep_after = now - self.max_lag - 2 * self.check_seconds
        while len(self._samples) > 1 and self._samples[0][0] < keep_after:
            self._samples.popleft()

    async def _check(self, replica: Replica) -> None:
        try:
            async with asyncio.timeout(max(self.check_seconds, 1.0)):
                row = (await replica.rows(REPLAYED_POSITION, {}))[0]
        except Exception as error:
            self.lost(replica, error)
            return
        if not row["standby"] or row["position"] is None:
            if replica.well:
                log.warning("replica_not_a_standby", replica=replica.name)
            replica.well = False
            return
        replica.replayed = int(row["position"])
        replica.caught_up_at, replica.caught_up_wall = self.caught_up_at(replica.replayed)
        if not replica.well:
            log.info("replica_available", replica=replica.name)
        replica.well = True
        behind = self.clock() - replica.caught_up_at > self.max_lag
        if behind and not replica.behind:
            log.warning("replica_behind", replica=replica.name, max_lag=self.max_lag)
        elif replica.behind and not behind:
            log.info("replica_caught_up", replica=replica.name)
        replica.behind = behind

    def caught_up_at(self, replayed: int) -> tuple[float, float]:
        """The times (monotonic, wall clock) of the newest sample at or below `replayed`
        (-inf: none kept)."""
        for sampled_at, wall, position in reversed(self._samples):
            if position <= replayed:
                return sampled_at, wall
        return float("-inf"), float("-inf")

    async def watch(self) -> None:
        """Checks until cancelled."""
        while True:
            await self.check()
            await asyncio.sleep(self.check_seconds)


class Watching:
    """`Replicas.watch` as a service the container starts and stops."""

    def __init__(self, replicas: Replicas) -> None:
        self._replicas = replicas
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._replicas.watch(), name="bookly-replicas")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class ReplicaRows:
    """`Rows` that reads on a fit replica, else (or when it fails) on the primary."""

    dialect = "postgresql"

    def __init__(self, replicas: Replicas, floor: Callable[[], Floor] = READ_FLOOR.get) -> None:
        self._replicas = replicas
        self._floor = floor

    async def __call__(self, statement: AnySelect, values: dict[str, Any]) -> Sequence[NamedRow]:
        replica = self._replicas.choose(self._floor())
        if replica is not None:
            try:
                return await replica.rows(statement, values)
            except REPLICA_FAILURES as error:
                self._replicas.lost(replica, error)
        return await self._replicas.primary(statement, values)

    async def aclose(self) -> None:
        """Nothing of its own: the container closes each pool."""


class ReplicaUnitOfWork(SqlUnitOfWork):
    """A unit of work that only reads: its session is opened on a fit replica (its
    connection taken, and pinged, at once, so a replica that is down is skipped), else
    on the primary."""

    def __init__(
        self,
        primary: async_sessionmaker[Any],
        replicas: Replicas,
        floor: Callable[[], Floor] = READ_FLOOR.get,
    ) -> None:
        super().__init__(primary)
        self._replicas = replicas
        self._floor = floor

    async def _open(self) -> AsyncSession:
        replica = self._replicas.choose(self._floor())
        if replica is not None:
            session: AsyncSession = replica.sessions()
            try:
                await session.connection()
            except Exception as error:
                await session.close()
                self._replicas.lost(replica, error)
            else:
                return session
        return await super()._open()


def replica_set(
    primary: Rows,
    urls: Sequence[str],
    max_lag: float,
    *,
    size: int,
    timeout: float,
    engine: Callable[[str], AsyncEngine],
    sessions: Callable[[AsyncEngine], async_sessionmaker[Any]],
) -> Replicas:
    """The replicas at `urls`, each with a pool for single reads and an engine for units
    of work; nothing connects before the first check."""
    members = []
    for url in urls:
        replica_engine = engine(url)
        pool = PoolRows(url, size=size, connect_timeout=timeout, acquire_timeout=timeout)
        members.append(Replica(described(url), pool, replica_engine, sessions(replica_engine)))
    return Replicas(primary, members, max_lag)
