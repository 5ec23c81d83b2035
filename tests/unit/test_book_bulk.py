"""Importing and exporting books in bulk, over memory adapters."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from application.books.bulk import (
    MAX_PROBLEMS_KEPT,
    RECORD_FIELDS,
    ImportRejected,
    import_uid,
    to_record,
)
from application.permissions import Operator
from domain.books import BookDetails
from domain.errors import InsufficientPermissions, UserNotFound
from domain.users import Role
from tests.unit.harness import person

OPERATOR = Operator("tests")
HEADER = list(RECORD_FIELDS)
DUNE = ["Dune", "Frank Herbert", "Chilton", "1965-08-01", "412", "en"]


def numbered(*records: list[str], first_line: int = 2) -> list[tuple[int, list[str]]]:
    return list(enumerate(records, start=first_line))


def many(count: int) -> list[tuple[int, list[str]]]:
    return numbered(
        *(
            [f"Book {i}", f"Author {i % 7}", "P", "2001-02-03", str(100 + i), "en"]
            for i in range(count)
        )
    )


@pytest.fixture
async def owner(harness):
    return (await person(harness, "owner@example.com", "owner")).user


async def run_import(
    harness, records, header=HEADER, owner_email="owner@example.com", actor=OPERATOR, progress=None
):
    return await harness.container.import_books().execute(
        actor, owner_email, header, records, progress
    )


async def test_a_file_is_imported_for_its_owner(harness, owner):
    seen: list[int] = []
    commits = harness.database.commits
    report = await run_import(harness, many(2500), progress=seen.append)
    assert (report.records, report.added, report.skipped) == (2500, 2500, 0)
    assert seen == [1000, 2000, 2500]
    books = harness.database.books.values()
    assert {b.owner_uid for b in books} == {owner.uid}
    assert all(b.created_at == harness.clock.now() for b in books)
    assert harness.database.commits == commits + 1  # one transaction for the whole file


async def test_one_bad_record_loads_nothing_and_every_bad_line_is_named(harness, owner):
    records = many(5) + numbered(
        [*DUNE[:3], "1965-02-30", *DUNE[4:]],
        ["", *DUNE[1:]],
        [*DUNE[:4], "0", "en"],
        [*DUNE[:4], "12.5", "en"],
        [*DUNE[:5], "english!"],
        DUNE[:5],
        [*DUNE, "extra"],
        [*DUNE[:3], "1 Aug 1965", *DUNE[4:]],
        first_line=10,
    )
    with pytest.raises(ImportRejected) as rejected:
        await run_import(harness, records)
    assert harness.database.books == {}
    assert [(p.line, p.field) for p in rejected.value.problems] == [
        (10, "published_date"),
        (11, "title"),
        (12, "page_count"),
        (13, "page_count"),
        (14, "language"),
        (15, None),
        (16, None),
        (17, "published_date"),
    ]
    assert rejected.value.bad_records == 8
    assert rejected.value.detail == "8 bad records; nothing was imported"
    assert str(rejected.value.problems[5]) == "line 15: expected 6 values, found 5"


async def test_problems_kept_are_capped_but_counted(harness, owner):
    bad = numbered(*([*DUNE[:4], "x", "en"] for _ in range(MAX_PROBLEMS_KEPT + 5)))
    with pytest.raises(ImportRejected) as rejected:
        await run_import(harness, bad)
    assert len(rejected.value.problems) == MAX_PROBLEMS_KEPT
    assert rejected.value.bad_records == MAX_PROBLEMS_KEPT + 5


@pytest.mark.parametrize("header", [HEADER[:-1], [*HEADER, "isbn"], [*HEADER[:-1], "title"], []])
async def test_a_bad_header_is_refused(harness, owner, header):
    with pytest.raises(ImportRejected) as rejected:
        await run_import(harness, numbered(DUNE), header=header)
    assert rejected.value.detail.startswith("line 1: the header must name the columns title, ")
    assert rejected.value.problems == []
    assert harness.database.books == {}


async def test_columns_may_come_in_any_order_and_case(harness, owner):
    header = ["LANGUAGE", " Title", "author", "publisher", "page_count", "published_date"]
    report = await run_import(
        harness,
        numbered(["EN", " Dune ", "Frank Herbert", "Chilton", "412", "1965-08-01"]),
        header=header,
    )
    (book,) = harness.database.books.values()
    assert report.added == 1
    assert (book.title, book.language, book.page_count) == ("Dune", "en", 412)


async def test_rerunning_loads_nothing_twice(harness, owner):
    first = await run_import(harness, many(30))
    harness.clock.advance(60)
    again = await run_import(
        harness,
        many(30)
        + numbered(
            ["DUNE", "frank  herbert", "Other publisher", "1965-08-01", "1", "fr"],
            [" dune", "Frank Herbert", "Chilton", "1965-08-01", "412", "en"],
            first_line=40,
        ),
    )
    assert (first.added, again.records, again.added, again.skipped) == (30, 32, 1, 31)
    assert len(harness.database.books) == 31


async def test_the_import_key_is_owner_title_author_and_date(harness, owner):
    details = BookDetails(*DUNE[:3], date(1965, 8, 1), 412, "en")
    same = BookDetails(" DUNE ", "frank   HERBERT", "X", date(1965, 8, 1), 1, "fr")
    assert import_uid(owner.uid, details) == import_uid(owner.uid, same)
    assert import_uid(owner.uid, details).version == 5
    for other in (
        BookDetails("Dune II", *DUNE[1:3], date(1965, 8, 1), 412, "en"),
        BookDetails(*DUNE[:3], date(1965, 8, 2), 412, "en"),
    ):
        assert import_uid(owner.uid, other) != import_uid(owner.uid, details)
    assert import_uid(uuid.uuid4(), details) != import_uid(owner.uid, details)


async def test_who_may_import(harness, owner):
    admin = await person(harness, "admin@example.com", "admin", Role.ADMIN)
    report = await run_import(harness, numbered(DUNE), actor=admin)
    assert report.added == 1
    with pytest.raises(InsufficientPermissions):
        await run_import(
            harness, numbered(DUNE), actor=await person(harness, "ada@example.com", "ada")
        )
    with pytest.raises(UserNotFound):
        await run_import(harness, numbered(DUNE), owner_email="nobody@example.com")


async def test_export_streams_every_book_oldest_first(harness, owner):
    other = (await person(harness, "other@example.com", "other")).user
    await run_import(harness, many(7))
    harness.clock.advance(1)
    await run_import(harness, numbered(DUNE), owner_email="other@example.com")
    export = harness.container.export_books()
    export._page_size = 3  # several pages
    books = [b async for b in export.execute(OPERATOR)]
    assert len(books) == 8 and books[-1].owner_uid == other.uid
    assert [(b.created_at, b.uid) for b in books] == sorted((b.created_at, b.uid) for b in books)
    mine = [b async for b in export.execute(OPERATOR, "OWNER@example.com")]
    assert len(mine) == 7 and {b.owner_uid for b in mine} == {owner.uid}
    with pytest.raises(UserNotFound):
        [b async for b in export.execute(OPERATOR, "nobody@example.com")]
    with pytest.raises(InsufficientPermissions):
        [b async for b in export.execute(await person(harness, "ada@example.com", "ada"))]


async def test_exported_records_import_back_the_same_books(harness, owner):
    await run_import(
        harness,
        many(5)
        + numbered(['Ünïcode, "quoted"', "Ä", "P", "1999-12-31", "1", "pt-br"], first_line=20),
    )
    exported = [to_record(b) async for b in harness.container.export_books().execute(OPERATOR)]
    fields = lambda books: sorted(tuple(to_record(b)) for b in books)  # noqa: E731
    before = fields(harness.database.books.values())
    harness.database.books.clear()
    report = await run_import(harness, numbered(*exported))
    assert report.added == 6
    assert fields(harness.database.books.values()) == before
