"""SqlUserRepository and SqlUnitOfWork on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import EmailTaken, UsernameTaken
from domain.users import Role, User
from tests.integration.sql_fixtures import make_user

PLUS_TWO = timezone(timedelta(hours=2))


async def store(uow_factory: Any, *users: User) -> None:
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


async def test_a_user_round_trips(uow_factory: Any) -> None:
    created = datetime(2026, 1, 2, 12, 30, 15, 123456, tzinfo=PLUS_TWO)
    user = make_user(
        role=Role.ADMIN,
        is_verified=True,
        created_at=created,
        updated_at=created + timedelta(minutes=1),
    )
    await store(uow_factory, user)
    async with uow_factory() as uow:
        loaded = await uow.users.get(user.uid)
    assert loaded is not None and loaded is not user
    assert asdict(loaded) == asdict(user)
    assert loaded.role is Role.ADMIN
    assert loaded.created_at.tzinfo is UTC and loaded.updated_at.tzinfo is UTC
    assert loaded.created_at.hour == 10  # converted to UTC


async def test_lookup_by_email_and_by_username_in_any_case(uow_factory: Any) -> None:
    user, other = make_user(username="Grace_H"), make_user()
    await store(uow_factory, user, other)
    async with uow_factory() as uow:
        by_email = await uow.users.get_by_email(user.email)
        by_name = [await uow.users.get_by_username(n) for n in ("Grace_H", "grace_h", "GRACE_H")]
        assert await uow.users.get(uuid4()) is None
        assert await uow.users.get_by_email("nobody@example.com") is None
        assert await uow.users.get_by_username("nobody") is None
    assert by_email == user
    assert by_name == [user, user, user]


async def test_update_stores_the_changed_fields(uow_factory: Any) -> None:
    user = make_user()
    await store(uow_factory, user)
    later = datetime.now(UTC) + timedelta(hours=1)
    async with uow_factory() as uow:
        loaded = await uow.users.get(user.uid)
        assert loaded is not None
        loaded.rename(later, username="renamed", first_name="Grace")
        loaded.verify_email(later)
        loaded.role = Role.GUEST
        await uow.users.update(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        reloaded = await uow.users.get_by_username("RENAMED")
    assert reloaded is not None
    assert (reloaded.first_name, reloaded.is_verified, reloaded.role) == ("Grace", True, Role.GUEST)
    assert reloaded.updated_at == later


@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        ({"email": "same@example.com"}, {"email": "same@example.com"}, EmailTaken),
        ({"username": "Bookworm"}, {"username": "bOOKWORM"}, UsernameTaken),
    ],
    ids=["email", "username-in-another-case"],
)
async def test_a_taken_email_or_username_is_refused_at_commit(
    uow_factory: Any, first: dict[str, str], second: dict[str, str], error: type[Exception]
) -> None:
    await store(uow_factory, make_user(**first))
    async with uow_factory() as uow:
        await uow.users.add(make_user(**second))
        with pytest.raises(error):
            await uow.commit()


async def test_renaming_to_a_taken_username_is_refused(uow_factory: Any) -> None:
    taken, user = make_user(username="taken"), make_user()
    await store(uow_factory, taken, user)
    async with uow_factory() as uow:
        loaded = await uow.users.get(user.uid)
        assert loaded is not None
        loaded.rename(datetime.now(UTC), username="TAKEN")
        await uow.users.update(loaded)
        with pytest.raises(UsernameTaken):
            await uow.commit()


async def test_a_conflict_found_by_autoflush_is_translated_too(uow_factory: Any) -> None:
    await store(uow_factory, make_user(email="early@example.com"))
    with pytest.raises(EmailTaken):
        async with uow_factory() as uow:
            await uow.users.add(make_user(email="early@example.com"))
            await uow.users.get_by_username("anyone")  # flushes the pending insert first


async def test_leaving_without_commit_rolls_back(uow_factory: Any) -> None:
    kept, dropped, failed = make_user(), make_user(), make_user()
    await store(uow_factory, kept)
    async with uow_factory() as uow:
        await uow.users.add(dropped)
        loaded = await uow.users.get(kept.uid)
        assert loaded is not None
        loaded.rename(datetime.now(UTC), first_name="Changed")
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.users.add(failed)
            raise RuntimeError("use case failed")
    async with uow_factory() as uow:
        assert await uow.users.get(dropped.uid) is None
        assert await uow.users.get(failed.uid) is None
        reloaded = await uow.users.get(kept.uid)
    assert reloaded is not None and reloaded.first_name == "Ada"


async def test_concurrent_units_of_work_have_sessions_of_their_own(uow_factory: Any) -> None:
    sessions: list[AsyncSession] = []
    both_open = asyncio.Barrier(2)

    async def sign_up(user: User) -> None:
        async with uow_factory() as uow:
            sessions.append(uow.session)
            await uow.users.add(user)
            await both_open.wait()
            await uow.commit()

    first, second = make_user(), make_user()
    await asyncio.wait_for(asyncio.gather(sign_up(first), sign_up(second)), timeout=10)
    assert sessions[0] is not sessions[1]
    async with uow_factory() as uow:
        assert await uow.users.get(first.uid) == first
        assert await uow.users.get(second.uid) == second
