"""`bookly` as operators run it: a subprocess configured by BOOKLY_* variables, on a
migrated SQLite file and on a PostgreSQL database of this test run."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.inprocess.clock import SystemClock
from adapters.sqlalchemy.tables import books
from adapters.sqlalchemy.token_store import SqlTokenStore
from application.books.bulk import RECORD_FIELDS
from domain.books import Book, BookDetails
from domain.users import Role
from tests.integration.sql_fixtures import make_user, truncate_all
from tests.live_service import run_bookly

SECRET = "cli-tests-secret-key-0123456789abcdefghijkl"
GOOD = [
    ["Dune", "Frank Herbert", "Chilton", "1965-08-01", "412", "en"],
    ["Emma, a novel", "Jane Austen", 'John "Murray"', "1815-12-23", "474", "en"],
    ["Ünïcode", "Ä Author", "P", "2000-02-29", "1", "pt-br"],
]


@pytest.fixture(autouse=True)
async def leave_the_database_empty(sql_engine):
    """The API suite shares this run's PostgreSQL database and expects it empty."""
    yield
    await truncate_all(sql_engine)


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([list(RECORD_FIELDS), *rows])
    return out.getvalue()


@pytest.fixture
def bookly(database_url: str, tmp_path: Path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BOOKLY_")}
    environment.update(
        BOOKLY_DATABASE_URL=database_url,
        BOOKLY_SECRET_KEY=SECRET,
        BOOKLY_MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )

    async def run(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run_bookly, environment, *argv, stdin=stdin, cwd=tmp_path)

    return run


def failed_with(result: subprocess.CompletedProcess[str], reason: str) -> bool:
    return (
        result.returncode == 1 and result.stdout == "" and result.stderr.splitlines()[-1] == reason
    )


async def count_books(sql_sessions) -> int:
    async with sql_sessions() as session:
        return (await session.execute(select(func.count()).select_from(books))).scalar_one()


async def test_operator_commands(bookly, uow_factory, sql_sessions, tmp_path):
    """Independent commands run side by side: each start-up costs about a second."""
    root = make_user(email="root@example.com", role=Role.ADMIN, is_verified=True)
    ada = make_user(email="ada@example.com", created_at=root.created_at + timedelta(1))
    other = make_user(email="other@example.com", created_at=root.created_at + timedelta(2))
    async with uow_factory() as uow:
        for user in (root, ada, other):
            await uow.users.add(user)
        await uow.commit()
    store = SqlTokenStore(sql_sessions, SystemClock())
    session = uuid.uuid4()
    await store.open_session(session, ada.uid, "r", datetime.now(UTC) + timedelta(hours=1))
    (tmp_path / "good.csv").write_text(csv_text(GOOD), encoding="utf-8")
    bad = [
        *GOOD,
        ["Bad", "A", "P", "2001-02-30", "10", "en"],
        ["Worse", "A", "P", "2001-01-01", "0", "en"],
    ]
    (tmp_path / "bad.csv").write_text(csv_text(bad), encoding="utf-8")

    rejected, refused, listed = await asyncio.gather(
        bookly("books", "import", "bad.csv", "--owner", "ada@example.com"),
        bookly("users", "set-role", "root@example.com", "guest"),
        bookly("users", "list", "--json", "--role", "user"),
    )
    assert failed_with(rejected, "bookly: bad.csv: 2 bad records; nothing was imported")
    assert rejected.stderr.splitlines()[:2] == [
        "bad.csv:5: published_date: A calendar date, YYYY-MM-DD.",
        "bad.csv:6: page_count: A whole number from 1 to 100000.",
    ]
    assert await count_books(sql_sessions) == 0
    assert failed_with(refused, "bookly: This would leave no active admin.")
    assert [u["email"] for u in json.loads(listed.stdout)["items"]] == [
        "ada@example.com",
        "other@example.com",
    ]

    loaded, switched_off = await asyncio.gather(
        bookly("books", "import", "good.csv", "--owner", "ADA@example.com"),
        bookly("users", "deactivate", "ada@example.com", "--json"),
    )
    assert (loaded.returncode, loaded.stderr) == (0, "")
    assert loaded.stdout.startswith("imported 3 books for ADA@example.com")
    assert switched_off.returncode == 0 and json.loads(switched_off.stdout)["is_active"] is False
    assert not await store.is_live(session)

    again, exported = await asyncio.gather(
        bookly("books", "import", "good.csv", "--owner", "ada@example.com", "--json"),
        bookly("books", "export"),
    )
    assert json.loads(again.stdout) == {"records": 3, "added": 0, "skipped": 3}
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert rows[0] == list(RECORD_FIELDS) and sorted(rows[1:]) == sorted(GOOD)

    copied = await bookly(
        "books", "import", "-", "--owner", "other@example.com", "--json", stdin=exported.stdout
    )
    assert json.loads(copied.stdout)["added"] == 3
    async with sql_sessions() as db:
        owners = (
            await db.execute(select(books.c.owner_uid, func.count()).group_by(books.c.owner_uid))
        ).all()
    assert dict(owners) == {ada.uid: 3, other.uid: 3}
    async with uow_factory() as uow:
        stored = await uow.users.get(ada.uid)
        assert (stored.role, stored.is_active) == (Role.USER, False)


FORMULAS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+1": "'+1",
    "-1": "'-1",
    "@x": "'@x",
    "'=x": "''=x",
    "'Salem's Lot": "'Salem's Lot",
}


async def shelf(sql_sessions, owner_uid) -> list[tuple[str, str, str]]:
    async with sql_sessions() as session:
        rows = await session.execute(
            select(books.c.title, books.c.author, books.c.publisher).where(
                books.c.owner_uid == owner_uid
            )
        )
    return sorted(tuple(row) for row in rows)


async def test_formulas_go_out_as_text_and_come_back_as_they_were(
    bookly, uow_factory, sql_sessions, tmp_path
):
    ada, other = make_user(email="ada@example.com"), make_user(email="other@example.com")
    now = datetime.now(UTC)
    async with uow_factory() as uow:
        await uow.users.add(ada)
        await uow.users.add(other)
        await uow.books.add_many(
            [
                Book.create(
                    uuid.uuid4(),
                    ada.uid,
                    BookDetails(text, text, text, date(2000, 1, 1), 10, "en"),
                    now,
                )
                for text in FORMULAS
            ]
        )
        await uow.commit()
    (tmp_path / "tab.csv").write_text(
        csv_text([["\t=x", "A", "P", "2000-01-01", "1", "en"]]), encoding="utf-8"
    )

    exported, refused = await asyncio.gather(
        bookly("books", "export", "--owner", "ada@example.com"),
        bookly("books", "import", "tab.csv", "--owner", "other@example.com"),
    )
    rows = list(csv.reader(io.StringIO(exported.stdout)))[1:]
    assert sorted(row[:3] for row in rows) == sorted([w, w, w] for w in FORMULAS.values())
    assert failed_with(refused, "bookly: tab.csv: 1 bad record; nothing was imported")
    assert refused.stderr.splitlines()[0] == "tab.csv:2: title: 1 to 255 printable characters."
    assert await shelf(sql_sessions, other.uid) == []

    copied = await bookly(
        "books", "import", "-", "--owner", "other@example.com", "--json", stdin=exported.stdout
    )
    assert json.loads(copied.stdout)["added"] == len(FORMULAS)
    assert (
        await shelf(sql_sessions, other.uid)
        == await shelf(sql_sessions, ada.uid)
        == sorted((text, text, text) for text in FORMULAS)
    )
