"""The SQL adapters behind user administration and bulk books, on SQLite and PostgreSQL:
the user search, the admin lock under concurrency, bulk inserts and keyset scans."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from adapters.inprocess.clock import SystemClock
from adapters.sqlalchemy import books as sql_books
from application.permissions import Operator
from application.ports.users import UserQuery
from application.users.administration import ChangeUser, UserChanges
from domain.books import Book
from domain.errors import LastAdmin
from domain.users import Role
from tests.fakes.token_store import MemoryTokenStore
from tests.integration.sql_fixtures import make_user, truncate_all

START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def leave_the_database_empty(sql_engine):
    """The API suite shares this run's PostgreSQL database and expects it empty."""
    yield
    await truncate_all(sql_engine)


async def store_users(uow_factory, *users) -> None:
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


async def test_search_filters_order_and_total(uow_factory):
    people = [
        make_user(email="zed@example.com", username="Zed", created_at=START),
        make_user(
            email="amy@example.com",
            username="amy_2",
            created_at=START + timedelta(1),
            role=Role.ADMIN,
            is_verified=True,
        ),
        make_user(email="100%@example.com", username="percent", created_at=START, is_active=False),
        make_user(
            email="bob@example.org",
            username="BOBBY",
            created_at=START + timedelta(2),
            role=Role.GUEST,
            is_verified=True,
        ),
    ]
    await store_users(uow_factory, *people)

    async def emails(**filters) -> list[str]:
        async with uow_factory() as uow:
            page = await uow.users.search(UserQuery(**filters))
        return [u.email for u in page.items]

    tied = sorted(people[:3:2], key=lambda u: u.uid)  # same created_at: by uid
    assert await emails() == [u.email for u in tied] + ["amy@example.com", "bob@example.org"]
    assert await emails(text="bOb") == ["bob@example.org"]
    assert await emails(text="%") == ["100%@example.com"]
    assert await emails(text="y_2") == ["amy@example.com"]
    assert await emails(text="_") == ["amy@example.com"]
    assert await emails(text="EXAMPLE.COM", is_active=True) == [
        "zed@example.com",
        "amy@example.com",
    ]
    assert await emails(role=Role.GUEST, is_verified=True) == ["bob@example.org"]
    assert await emails(is_verified=False, is_active=False) == ["100%@example.com"]
    async with uow_factory() as uow:
        page = await uow.users.search(UserQuery(limit=2, offset=1))
    assert (len(page.items), page.total, page.limit, page.offset) == (2, 4, 2, 1)


async def test_a_second_admin_lock_waits_for_the_first(uow_factory):
    """While one unit of work holds the admins, another's lock waits; when it gets them
    it sees the committed change (here: one admin fewer)."""
    first_admin = make_user(role=Role.ADMIN)
    second_admin = make_user(role=Role.ADMIN)
    await store_users(
        uow_factory,
        first_admin,
        second_admin,
        make_user(role=Role.ADMIN, is_active=False),
        make_user(),
    )

    async def lock_in_another_unit() -> set[uuid.UUID]:
        async with uow_factory() as uow:
            return await uow.users.lock_active_admins()

    async with uow_factory() as uow:
        assert await uow.users.lock_active_admins() == {first_admin.uid, second_admin.uid}
        waiting = asyncio.create_task(lock_in_another_unit())
        await asyncio.sleep(0.5)
        assert not waiting.done()
        user = await uow.users.get(first_admin.uid)
        user.change_access(datetime.now(UTC), role=Role.USER)
        await uow.users.update(user)
        await uow.commit()
    assert await asyncio.wait_for(waiting, 5) == {second_admin.uid}


async def test_a_second_user_lock_waits_for_the_first(uow_factory):
    """`lock` holds the row: another unit of work's lock of it waits, then reads the
    committed change (what a password change decides on)."""
    user = make_user()
    await store_users(uow_factory, user, make_user())

    async def lock_in_another_unit(uid: uuid.UUID) -> str:
        async with uow_factory() as uow:
            return (await uow.users.lock(uid)).password_hash

    async with uow_factory() as uow:
        assert (await uow.users.get(user.uid)).password_hash == user.password_hash
        locked = await uow.users.lock(user.uid)
        waiting = asyncio.create_task(lock_in_another_unit(user.uid))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        locked.change_password_hash("changed meanwhile", datetime.now(UTC))
        await uow.users.update(locked)
        await uow.commit()
    assert await asyncio.wait_for(waiting, 5) == "changed meanwhile"
    async with uow_factory() as uow:
        assert await uow.users.lock(uuid.uuid4()) is None


@pytest.mark.parametrize("changes", [UserChanges(role=Role.USER), UserChanges(is_active=False)])
async def test_two_admins_stepping_down_at_once_leave_one(uow_factory, changes):
    admins = [make_user(role=Role.ADMIN), make_user(role=Role.ADMIN)]
    await store_users(uow_factory, *admins)
    clock = SystemClock()
    change = ChangeUser(uow_factory, MemoryTokenStore(clock), clock)
    for _ in range(3):
        outcomes = await asyncio.gather(
            *(change.execute(Operator(), admin.uid, changes) for admin in admins),
            return_exceptions=True,
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["LastAdmin", "User"], outcomes
        async with uow_factory() as uow:
            assert len(await uow.users.lock_active_admins()) == 1
        restore = next(o for o in outcomes if not isinstance(o, LastAdmin))
        await change.execute(Operator(), restore.uid, UserChanges(Role.ADMIN, True))


def book(
    owner_uid: uuid.UUID, title: str, created_at: datetime = START, uid: uuid.UUID | None = None
) -> Book:
    return Book(
        uid or uuid.uuid4(),
        owner_uid,
        title,
        "Author",
        "P",
        date(2000, 1, 1),
        10,
        "en",
        created_at,
        created_at,
    )


async def test_add_many_inserts_in_chunks_and_skips_known_uids(
    uow_factory, sql_engine, monkeypatch
):
    monkeypatch.setattr(sql_books, "BOOKS_PER_INSERT", 4)
    owner = make_user()
    await store_users(uow_factory, owner)
    first = [book(owner.uid, f"Book {i}") for i in range(10)]
    inserts: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    event.listen(sql_engine.sync_engine, "before_cursor_execute", count)
    try:
        async with uow_factory() as uow:
            assert await uow.books.add_many(first) == 10
            assert await uow.books.add_many([]) == 0
            await uow.commit()
    finally:
        event.remove(sql_engine.sync_engine, "before_cursor_execute", count)
    assert len(inserts) == 3  # 4 + 4 + 2 rows, one multi-row statement each
    again = [*first[:3], book(owner.uid, "New"), book(owner.uid, "Twice", uid=first[5].uid)]
    async with uow_factory() as uow:
        assert await uow.books.add_many(again) == 1
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.books.scan(None, 100)
        assert len(stored) == 11
        assert (await uow.books.get(first[5].uid)).title == "Book 5"  # not overwritten
        view = (await uow.books.detail(first[0].uid)).view
        assert (view.review_count, view.average_rating) == (0, None)


async def test_add_many_rolls_back_with_its_unit_of_work(uow_factory):
    owner = make_user()
    await store_users(uow_factory, owner)
    async with uow_factory() as uow:
        await uow.books.add_many([book(owner.uid, "Gone") for _ in range(3)])
    async with uow_factory() as uow:
        assert await uow.books.scan(None, 10) == []


async def test_scan_pages_by_created_at_then_uid(uow_factory):
    owner, other = make_user(), make_user()
    await store_users(uow_factory, owner, other)
    made = [
        book(owner.uid if i % 3 else other.uid, f"B{i}", START + timedelta(seconds=i // 4))
        for i in range(23)
    ]  # ties on created_at, on purpose
    async with uow_factory() as uow:
        await uow.books.add_many(made)
        await uow.commit()

    async def scan_all(owner_uid=None, size=5) -> list[uuid.UUID]:
        found, after = [], None
        while True:
            async with uow_factory() as uow:
                page = await uow.books.scan(after, size, owner_uid)
            found += [b.uid for b in page]
            if len(page) < size:
                return found
            after = (page[-1].created_at, page[-1].uid)

    in_order = sorted(made, key=lambda b: (b.created_at, b.uid))
    assert await scan_all() == [b.uid for b in in_order]
    assert await scan_all(other.uid, 2) == [b.uid for b in in_order if b.owner_uid == other.uid]
