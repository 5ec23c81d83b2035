"""Loads the dataset into a migrated PostgreSQL database.

Books go in through the project's own bulk path (`BookRepository.add_many`, the CSV
import's), tags through `TagRepository.ensure`, both in one `SqlUnitOfWork`. Users,
reviews and book-tag links have no bulk path in the repositories, so they go in with
PostgreSQL COPY (asyncpg). Each book's `review_count`, `rating_sum` and `average_rating`
are then computed from its reviews in one UPDATE, the way `adjust_ratings` keeps them,
and checked."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import asyncpg
from argon2 import PasswordHasher, Type

from adapters.sqlalchemy.engine import create_engine, session_factory
from adapters.sqlalchemy.mapping import start_mappers
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.books import search_key
from entrypoints.settings import Settings
from tests.benchmarks.dataset import (
    BOOKS,
    LINKS,
    LOGIN_ACCOUNTS,
    PASSWORD,
    REVIEW_COLUMNS,
    REVIEWS,
    TAGS,
    USER_COLUMNS,
    USERS,
    Dataset,
)

FIGURES = """
UPDATE books SET review_count = s.n, rating_sum = s.total,
       average_rating = CAST(s.total AS FLOAT) / s.n
FROM (SELECT book_uid, count(*) AS n, sum(rating) AS total FROM reviews GROUP BY book_uid) s
WHERE books.uid = s.book_uid"""
INCONSISTENT = """
SELECT count(*) FROM books b
LEFT JOIN (SELECT book_uid, count(*) AS n, sum(rating) AS total FROM reviews
           GROUP BY book_uid) s ON s.book_uid = b.uid
WHERE b.review_count <> coalesce(s.n, 0) OR b.rating_sum <> coalesce(s.total, 0)
   OR b.average_rating IS DISTINCT FROM CAST(s.total AS FLOAT) / s.n"""
# The links' copies of their book's sort keys, as the book repository keeps them.
LINK_COPIES = """
UPDATE book_tags SET created_at = b.created_at, title_key = b.title_key, language = b.language
FROM books b WHERE b.uid = book_tags.book_uid"""
LINK_RATINGS = """
INSERT INTO book_tag_ratings (book_uid, tag_uid, average_rating, language)
SELECT l.book_uid, l.tag_uid, b.average_rating, b.language
FROM book_tags l JOIN books b ON b.uid = l.book_uid"""
EXPECTED = {
    "users": USERS,
    "books": BOOKS,
    "reviews": REVIEWS,
    "tags": TAGS,
    "book_tags": LINKS,
    "book_tag_ratings": LINKS,
}


def argon2_parameters() -> dict[str, int]:
    """The service's defaults (the harness passes no BOOKLY_ARGON2_* variable)."""
    fields = Settings.model_fields
    return {
        "time_cost": fields["argon2_time_cost"].default,
        "memory_cost": fields["argon2_memory_kib"].default,
        "parallelism": fields["argon2_parallelism"].default,
    }


def password_hash() -> str:
    """A real argon2id hash of PASSWORD, with the service's parameters (and a salt of its
    own)."""
    return PasswordHasher(**argon2_parameters(), type=Type.ID).hash(PASSWORD)


def login_hashes() -> list[str]:
    """Real argon2id hashes, the service's parameters, for the accounts the benchmark uses."""
    with ThreadPoolExecutor(2) as pool:  # argon2-cffi releases the GIL
        return list(pool.map(lambda _: password_hash(), range(LOGIN_ACCOUNTS)))


async def load(database_url: str, dsn: str, data: Dataset) -> dict[str, object]:
    start_mappers()  # as the composition root does at start-up
    timings: dict[str, float] = {}
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    engine = create_engine(database_url)
    try:
        await connection.copy_records_to_table("users", records=data.users, columns=USER_COLUMNS)
        timings["users (COPY)"] = time.perf_counter() - started
        mark = time.perf_counter()
        async with SqlUnitOfWork(session_factory(engine)) as uow:
            added = await uow.books.add_many(data.books)
            await uow.tags.ensure([tag.name for tag in data.tags], data.tags)
            await uow.commit()
        if added != BOOKS:
            raise RuntimeError(f"add_many added {added} of {BOOKS} books")
        timings["books (BookRepository.add_many) + tags (TagRepository.ensure)"] = (
            time.perf_counter() - mark
        )
        mark = time.perf_counter()
        keys = {
            book.uid: (book.created_at, search_key(book.title), book.language)
            for book in data.books
        }
        await connection.copy_records_to_table(
            "book_tags",
            records=[(book, tag, *keys[book]) for book, tag in data.links],
            columns=("book_uid", "tag_uid", "created_at", "title_key", "language"),
        )
        await connection.copy_records_to_table(
            "reviews", records=data.reviews, columns=REVIEW_COLUMNS
        )
        await connection.execute(FIGURES)
        await connection.execute(LINK_COPIES)
        await connection.execute(LINK_RATINGS)
        timings["book_tags + reviews (COPY), figures (UPDATE)"] = time.perf_counter() - mark
        await _check(connection)
        mark = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")  # fresh statistics, as a live database has
        timings["VACUUM ANALYZE"] = time.perf_counter() - mark
    finally:
        await engine.dispose()
        await connection.close()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "steps": {step: round(seconds, 2) for step, seconds in timings.items()},
        "rows": EXPECTED,
    }


async def _check(connection: asyncpg.Connection) -> None:
    for table, expected in EXPECTED.items():
        count = await connection.fetchval(f"SELECT count(*) FROM {table}")
        if count != expected:
            raise RuntimeError(f"{table}: {count} rows loaded, {expected} expected")
    if (bad := await connection.fetchval(INCONSISTENT)) != 0:
        raise RuntimeError(f"{bad} books' review figures disagree with their reviews")
