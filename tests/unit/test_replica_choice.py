"""Which server a catalogue read goes to (`adapters/sqlalchemy/replicas.py`), with replicas
and a primary that answer from memory and a clock the test moves."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.sqlalchemy.replicas import Replica, ReplicaRows, Replicas
from domain.errors import ServiceUnavailable

MAX_LAG = 4.0


class Server:
    """Answers the replica checks (and reads) as a PostgreSQL server would, from memory."""

    def __init__(self, name: str, position: int = 0) -> None:
        self.name, self.position, self.down, self.standby = name, position, False, True
        self.reads = 0

    async def __call__(self, statement: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
        if self.down:
            raise ServiceUnavailable("database", "down")
        if "position" in statement.selected_columns:
            return [{"position": self.position, "standby": self.standby}]
        self.reads += 1
        return [{"served_by": self.name}]


class PageRead:
    """A statement with no `position` column: a page of the catalogue."""

    selected_columns: tuple[str, ...] = ()


class Clock:
    """Monotonic time; the wall clock reads a fixed million seconds more."""

    now = 100.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + 1_000_000


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def servers(clock: Clock) -> tuple[Server, list[Server], Replicas]:
    primary = Server("primary", 1_000)
    standbys = [Server("r1", 1_000), Server("r2", 1_000)]
    members = [Replica(s.name, s, None, None) for s in standbys]  # type: ignore[arg-type]
    return (
        primary,
        standbys,
        Replicas(primary, members, MAX_LAG, clock=clock, wall_clock=clock.wall),
    )


async def test_fit_replicas_are_taken_in_turn(servers) -> None:
    _, _, replicas = servers
    await replicas.check()
    chosen = [replicas.choose().name for _ in range(4)]
    assert sorted(chosen) == ["r1", "r1", "r2", "r2"]


async def test_no_replica_is_fit_before_the_first_check(servers) -> None:
    assert servers[2].choose() is None


async def test_a_reader_goes_to_the_primary_until_a_replica_is_seen_past_its_write(servers) -> None:
    primary, (r1, _r2), replicas = servers
    await replicas.check()
    primary.position = 1_500  # the reader's write
    assert replicas.choose((1_500, 0.0)) is None
    r1.position = 1_500
    await replicas.check()
    assert replicas.choose((1_500, 0.0)).name == "r1"
    assert replicas.choose((1_500, 0.0)).name == "r1"  # r2 has not replayed it
    assert replicas.choose() is not None


async def test_a_session_reads_on_a_replica_caught_up_with_the_primary_as_of_its_log_in(
    servers, clock: Clock
) -> None:
    primary, (_, r2), replicas = servers
    await replicas.check()  # t=100: all at 1000
    logged_in = clock.wall()
    clock.now, primary.position, r2.position = 101.0, 1_200, 1_200  # r1 stands still
    await replicas.check()
    assert {replicas.choose((0, logged_in)).name for _ in range(2)} == {"r1", "r2"}
    assert {replicas.choose((0, logged_in + 0.5)).name for _ in range(2)} == {"r2"}
    assert replicas.choose((0, clock.wall() + 0.1)) is None  # no check has seen it yet


async def test_lag_is_the_age_of_the_newest_sample_a_replica_has_replayed(
    servers, clock: Clock
) -> None:
    primary, (r1, r2), replicas = servers
    await replicas.check()  # t=100: all at 1000
    clock.now, primary.position, r2.position = 101.0, 2_000, 2_000
    await replicas.check()  # r1 stays at 1000: caught up with the primary of t=100
    assert replicas.caught_up_at(r1.position) == (100.0, 1_000_100.0)
    clock.now = 100.0 + MAX_LAG  # exactly the limit: still fit
    assert {replicas.choose().name for _ in range(2)} == {"r1", "r2"}
    clock.now = 100.0 + MAX_LAG + 0.1  # between checks, lag grows at each read
    assert {replicas.choose().name for _ in range(2)} == {"r2"}


async def test_an_idle_primary_leaves_a_paused_replica_fit(servers, clock: Clock) -> None:
    _primary, (r1, _), replicas = servers
    for second in range(10):  # nothing is written: the primary's WAL ends where it did
        clock.now = 100.0 + second
        await replicas.check()
    assert replicas.caught_up_at(r1.position) == (clock.now, clock.wall())


async def test_a_replica_that_fails_a_check_or_a_read_is_skipped_until_it_is_well(servers) -> None:
    _primary, (r1, r2), replicas = servers
    await replicas.check()
    r1.down = True
    await replicas.check()
    assert {replicas.choose().name for _ in range(3)} == {"r2"}

    rows = ReplicaRows(replicas, floor=lambda: (0, 0.0))
    r2.down = True  # between checks: the read fails over to the primary
    assert await rows(PageRead(), {}) == [{"served_by": "primary"}]
    assert replicas.choose() is None
    r1.down = r2.down = False
    await replicas.check()
    assert replicas.choose() is not None


async def test_a_promoted_replica_is_not_read_from(servers) -> None:
    _, (r1, _r2), replicas = servers
    r1.standby = False
    await replicas.check()
    assert {replicas.choose().name for _ in range(3)} == {"r2"}


async def test_with_the_primary_down_replicas_age_out(servers, clock: Clock) -> None:
    primary, _, replicas = servers
    await replicas.check()
    primary.down = True
    clock.now += MAX_LAG + 1
    await replicas.check()
    assert replicas.choose() is None


def test_without_replicas_every_read_goes_where_it_went(tmp_path) -> None:
    from entrypoints.container import build_container
    from entrypoints.http.app import create_app
    from entrypoints.http.read_your_writes import ReadYourWritesMiddleware
    from entrypoints.settings import Settings

    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db")
    container = build_container(settings)
    assert container.replicas() is None
    assert container.book_reads()._rows is container.catalogue_rows()
    assert container.read_uow() is container.uow()
    app = create_app(settings, container)
    assert ReadYourWritesMiddleware not in [m.cls for m in app.user_middleware]
