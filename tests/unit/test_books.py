"""The catalogue's use cases and permission rules, over memory adapters."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import pytest

from application.ports.books import BookQuery, BookSort
from domain.books import BookDetails
from domain.errors import (
    AccountNotVerified,
    BookNotFound,
    InsufficientPermissions,
    RuleViolation,
    UserNotFound,
)
from domain.users import Role
from tests.unit.harness import principal

DETAILS = BookDetails("Dune", "Frank Herbert", "Chilton", date(1965, 8, 1), 412, "en")


@pytest.fixture
async def people(harness):
    return {
        "owner": await principal(harness, "owner@example.com", "owner"),
        "other": await principal(harness, "other@example.com", "other"),
        "admin": await principal(harness, "admin@example.com", "admin", Role.ADMIN),
        "guest": await principal(harness, "guest@example.com", "guest", Role.GUEST),
        "unverified": await principal(harness, "new@example.com", "newbie", verified=False),
    }


async def test_verified_users_and_admins_add_books_they_own(harness, people):
    for who in ("owner", "admin"):
        book = (await harness.container.add_book().execute(people[who], DETAILS)).book
        assert book.owner_uid == people[who].user.uid
        assert book.created_at == book.updated_at == harness.clock.now()


@pytest.mark.parametrize(
    ("who", "error"), [("guest", InsufficientPermissions), ("unverified", AccountNotVerified)]
)
async def test_guests_and_unverified_users_only_read(harness, people, who, error):
    with pytest.raises(error):
        await harness.container.add_book().execute(people[who], DETAILS)
    assert harness.database.books == {}


@pytest.mark.parametrize("who", ["owner", "admin"])
async def test_owner_and_admin_change_and_delete(harness, people, who):
    book = (await harness.container.add_book().execute(people["owner"], DETAILS)).book
    harness.clock.advance(60)
    changed = (
        await harness.container.update_book().execute(
            people[who], book.uid, {"title": "Dune Messiah"}
        )
    ).book
    assert (changed.title, changed.author, changed.page_count) == (
        "Dune Messiah",
        "Frank Herbert",
        412,
    )
    assert changed.updated_at > changed.created_at == book.created_at
    await harness.container.delete_book().execute(people[who], book.uid)
    with pytest.raises(BookNotFound):
        await harness.container.get_book().execute(book.uid)


@pytest.mark.parametrize("who", ["other", "guest", "unverified"])
async def test_nobody_else_changes_or_deletes(harness, people, who):
    book = (await harness.container.add_book().execute(people["owner"], DETAILS)).book
    with pytest.raises((InsufficientPermissions, AccountNotVerified)):
        await harness.container.update_book().execute(people[who], book.uid, {"title": "Mine"})
    with pytest.raises((InsufficientPermissions, AccountNotVerified)):
        await harness.container.delete_book().execute(people[who], book.uid)
    assert harness.database.books[book.uid].title == "Dune"


async def test_a_demoted_owner_loses_write_access(harness, people):
    book = (await harness.container.add_book().execute(people["owner"], DETAILS)).book
    people["owner"].user.role = Role.GUEST
    with pytest.raises(InsufficientPermissions):
        await harness.container.update_book().execute(people["owner"], book.uid, {"title": "x"})


async def test_an_update_is_checked_as_a_whole(harness, people):
    book = (await harness.container.add_book().execute(people["owner"], DETAILS)).book
    update = harness.container.update_book()
    for changes in (
        {"page_count": 0},
        {"title": "   "},
        {"language": "english!"},
        {"uid": uuid.uuid4()},
    ):
        with pytest.raises(RuleViolation):
            await update.execute(people["owner"], book.uid, changes)
    assert harness.database.books[book.uid].details() == DETAILS


async def test_missing_books_and_users_are_not_found(harness, people):
    with pytest.raises(BookNotFound):
        await harness.container.update_book().execute(people["admin"], uuid.uuid4(), {})
    with pytest.raises(UserNotFound):
        await harness.container.list_user_books().execute(uuid.uuid4(), BookQuery())


async def test_search_filters_combine_and_order_is_stable(harness, people):
    add = harness.container.add_book().execute
    specs = [
        ("Dune", "Frank Herbert", "en"),
        ("Children of Dune", "Frank Herbert", "en"),
        ("Dune 100%_done", "Someone", "fr"),
        ("Emma", "Jane Austen", "en"),
    ]
    for index, (title, author, language) in enumerate(specs):
        harness.clock.advance(1)
        who = people["owner"] if index % 2 == 0 else people["other"]
        await add(who, dataclasses.replace(DETAILS, title=title, author=author, language=language))
    search = harness.container.list_books().execute
    titles = lambda page: [v.book.title for v in page.items]  # noqa: E731
    assert titles(await search(BookQuery(text="DUNE"))) == [
        "Dune 100%_done",
        "Children of Dune",
        "Dune",
    ]
    assert titles(await search(BookQuery(text="%_"))) == ["Dune 100%_done"]
    assert titles(
        await search(
            BookQuery(text="dune", author="frank HERBERT", owner_uid=people["other"].user.uid)
        )
    ) == ["Children of Dune"]
    assert titles(await search(BookQuery(language="FR"))) == ["Dune 100%_done"]
    page = await search(BookQuery(sort=BookSort.TITLE, limit=2, offset=1))
    assert (titles(page), page.total) == (["Dune", "Dune 100%_done"], 4)
    mine = await harness.container.list_user_books().execute(people["owner"].user.uid, BookQuery())
    assert titles(mine) == ["Dune 100%_done", "Dune"]
