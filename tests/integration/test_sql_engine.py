"""Engine set-up, and telling "the database is unavailable" from other failures."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from adapters.inprocess.clock import SystemClock
from adapters.sqlalchemy.book_reads import EngineRows
from adapters.sqlalchemy.engine import create_engine, is_unavailable_error, session_factory
from adapters.sqlalchemy.token_store import SqlTokenStore
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from domain.errors import ServiceUnavailable
from tests.services import free_port


async def failure_of(url: str, sql: str = "SELECT 1", **options: float) -> BaseException:
    engine = create_engine(url, **options)  # type: ignore[arg-type]
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    except Exception as error:  # the error is what the test looks at
        return error
    finally:
        await engine.dispose()
    raise AssertionError("no error")


async def test_a_new_sqlite_file_is_its_owners_only_and_an_old_one_keeps_its_mode(
    tmp_path: Path, permissive_umask: None
) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    old.touch()
    old.chmod(0o644)  # as a deployment chose
    for path in (old, new):
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.connect() as connection:
                await connection.execute(text("CREATE TABLE t (x INTEGER)"))
                await connection.commit()
                modes = {
                    p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob(f"{path.name}*")
                }
        finally:
            await engine.dispose()
        assert modes == dict.fromkeys(
            [path.name, f"{path.name}-wal", f"{path.name}-shm"], 0o644 if path == old else 0o600
        )


async def test_sqlite_file_gets_its_folder_and_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'folder' / 'x.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
    finally:
        await engine.dispose()
    assert pragmas == ["wal", 1, 5000]
    assert (tmp_path / "new" / "folder" / "x.db").exists()


async def test_sqlite_in_memory_works() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    error = await failure_of(f"sqlite+aiosqlite:///{tmp_path}")  # a folder, not a file
    assert is_unavailable_error(error)


async def test_a_server_that_is_not_listening_is_unavailable_at_once() -> None:
    started = time.monotonic()
    error = await failure_of(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    assert is_unavailable_error(error)
    assert time.monotonic() - started < 2.5


async def test_an_exhausted_pool_errors_instead_of_waiting(tmp_path: Path) -> None:
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", pool_size=1, pool_timeout=0.2
    )
    try:
        async with engine.connect(), engine.connect():
            with pytest.raises(Exception) as caught:  # judged below
                async with engine.connect():
                    pass
    finally:
        await engine.dispose()
    assert is_unavailable_error(caught.value)


@pytest.mark.postgres
async def test_a_slow_statement_times_out_as_unavailable(postgres_database_url: str) -> None:
    error = await failure_of(postgres_database_url, "SELECT pg_sleep(2)", statement_timeout=0.2)
    assert is_unavailable_error(error)


async def test_other_errors_are_not_unavailability(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert not is_unavailable_error(await failure_of(url, "SELECT * FROM no_such_table"))
    assert not is_unavailable_error(await failure_of(url, "SELEC 1"))
    assert not is_unavailable_error(IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not is_unavailable_error(ValueError("bad input"))


@pytest.mark.postgres
async def test_a_read_whose_pooled_connection_died_is_tried_again(
    postgres_database_url: str,
) -> None:
    """The reads' pool pings nothing before a read: a connection the server ended while
    it sat in the pool fails its read, which is tried once more on a fresh connection."""
    import uuid

    from adapters.sqlalchemy.book_reads import PoolRows, SqlBookReads

    rows = PoolRows(postgres_database_url, size=2)
    admin = create_engine(postgres_database_url)
    reads = SqlBookReads(rows)
    try:
        assert await reads.detail(uuid.uuid4()) is None  # one connection, now in the pool
        (row,) = await rows(select(func.pg_backend_pid().label("pid")), {})
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row["pid"]})
        assert await reads.detail(uuid.uuid4()) is None
        assert (rows.size(), rows.in_use()) == (1, 0)  # the dead one replaced, not kept
    finally:
        await rows.aclose()
        await admin.dispose()


@pytest.mark.postgres
async def test_reads_waiting_for_a_connection_get_one_in_the_order_they_came(
    postgres_database_url: str,
) -> None:
    """A read that arrives while another waits queues behind it, even when it arrives
    just as a connection comes back (asyncpg's own pool hands that connection to whoever
    asks first, so under load a waiting read could be passed over again and again)."""
    import asyncio

    from sqlalchemy import literal

    from adapters.sqlalchemy.book_reads import PoolRows

    rows = PoolRows(postgres_database_url, size=1)
    served: list[str] = []
    slow_one_done = asyncio.Event()
    rows.query_loggers.append(  # runs once the slow read has its rows, before it hands back
        lambda query: slow_one_done.set() if "pg_sleep" in query.query else None
    )

    async def read(name: str, statement) -> None:
        await rows(statement, {})
        served.append(name)

    async def newcomer() -> None:
        await slow_one_done.wait()
        await read("newcomer", select(literal(3)))

    try:
        await read("warm-up", select(literal(0)))  # the pool's one connection is open
        slow = asyncio.create_task(read("slow", select(func.pg_sleep(0.3))))
        await asyncio.sleep(0.1)
        waiting = asyncio.create_task(read("waiting", select(literal(2))))
        late = asyncio.create_task(newcomer())
        await asyncio.gather(slow, waiting, late)
    finally:
        await rows.aclose()
    assert served == ["warm-up", "slow", "waiting", "newcomer"]


@pytest.mark.postgres
async def test_a_read_that_waits_too_long_for_a_connection_is_unavailable(
    postgres_database_url: str,
) -> None:
    """The wait for a connection is bounded (the request becomes a 503), and the read
    that gave up leaves the pool's turns as they were: the next reads are served."""
    import asyncio

    from sqlalchemy import literal

    from adapters.sqlalchemy.book_reads import PoolRows

    rows = PoolRows(postgres_database_url, size=1, acquire_timeout=0.2)
    try:
        slow = asyncio.create_task(rows(select(func.pg_sleep(0.6)), {}))
        await asyncio.sleep(0.1)  # the slow read holds the pool's one connection
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable) as caught:  # the adapter's own error
            await rows(select(literal(1)), {})
        waited = time.perf_counter() - started
        await slow
        served = await asyncio.gather(*(rows(select(literal(n)), {}) for n in range(3)))
        assert [found[0][0] for found in served] == [0, 1, 2]
    finally:
        await rows.aclose()
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert 0.15 < waited < 0.5


async def test_every_way_into_the_database_says_service_unavailable_when_it_cannot_serve() -> None:
    """Units of work, the adapters' own sessions and the catalogue's rows raise the one
    application error, caused by the driver's; the HTTP layer and the CLI map only it."""
    engine = create_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none", connect_timeout=1
    )
    sessions = session_factory(engine)
    try:
        with pytest.raises(ServiceUnavailable) as in_unit:
            async with SqlUnitOfWork(sessions) as uow:
                await uow.users.get_by_email("ada@example.com")
        with pytest.raises(ServiceUnavailable) as in_store:
            await SqlTokenStore(sessions, SystemClock()).revoke_user(uuid4())
        with pytest.raises(ServiceUnavailable) as in_rows:
            await EngineRows(engine)(select(func.now()), {})
    finally:
        await engine.dispose()
    for caught in (in_unit, in_store, in_rows):
        assert caught.value.dependency == "database"
        assert is_unavailable_error(caught.value.__cause__)


async def test_a_failure_of_the_statement_itself_is_not_called_unavailable(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(OperationalError, match="no such table"):
            await EngineRows(engine)(select(text("x")).select_from(text("missing")), {})
    finally:
        await engine.dispose()
