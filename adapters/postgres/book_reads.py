"""`BookReads` on PostgreSQL: a book's detail and a catalogue page, one statement each.

Nested rows come back as arrays of records, which asyncpg decodes into typed tuples, so
nothing is parsed twice. The statements must find what `SqlBookRepository` finds, in the
same order: the integration tests compare the two on the same data."""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

import asyncpg

from adapters.postgres.pool import PostgresPool
from adapters.sqlalchemy.books import like_pattern, search_key
from application.ports.books import NEWEST_REVIEWS, BookDetail, BookQuery, BookSort, BookView, Page
from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag, tag_key

BOOK_COLUMNS = ("uid", "owner_uid", "title", "author", "publisher", "published_date",
                "page_count", "language", "created_at", "updated_at")
VIEW_COLUMNS = (*BOOK_COLUMNS, "review_count", "average_rating")
ORDER = {  # as SqlBookRepository's ORDER: ties broken by uid, unrated books last
    BookSort.NEWEST: "{t}.created_at DESC, {t}.uid DESC",
    BookSort.OLDEST: "{t}.created_at, {t}.uid",
    BookSort.TITLE: "{t}.title_key, {t}.uid",
    BookSort.TITLE_DESC: "{t}.title_key DESC, {t}.uid DESC",
    BookSort.RATING: "{t}.average_rating NULLS LAST, {t}.uid",
    BookSort.RATING_DESC: "{t}.average_rating DESC NULLS LAST, {t}.uid DESC",
}
# The sort keys travel out of the page's subquery so the outer query can keep its order.
SORT_KEYS = ", b.title_key"


def _tags_of(table: str) -> str:
    return ("ARRAY(SELECT ROW(t.uid, t.name, t.created_at) FROM book_tags bt "
            f"JOIN tags t ON t.uid = bt.tag_uid WHERE bt.book_uid = {table}.uid "
            "ORDER BY t.name_key, t.uid)")


DETAIL = (
    f"SELECT {', '.join('b.' + c for c in VIEW_COLUMNS)}, {_tags_of('b')} AS tags, "
    "ARRAY(SELECT ROW(r.uid, r.book_uid, r.user_uid, r.rating, r.review_text, r.created_at, "
    "r.updated_at) FROM reviews r WHERE r.book_uid = b.uid "
    f"ORDER BY r.created_at DESC, r.uid DESC LIMIT {NEWEST_REVIEWS}) AS reviews "
    "FROM books b WHERE b.uid = $1"
)


@cache
def page_statement(text: bool, author: bool, language: bool, owner: bool, tag: bool,
                   sort: BookSort) -> str:
    """The page and its total in one statement, for one combination of filters.

    Parameters, in order: those of the filters present (text, author, language, owner,
    tag), then limit and offset. The total comes from a one-row subquery joined to the
    page, so it arrives even when the page is empty."""
    where: list[str] = []
    number = 0

    def parameter() -> str:
        nonlocal number
        number += 1
        return f"${number}"

    if text:
        pattern = parameter()
        where.append(f"(b.title_key LIKE {pattern} ESCAPE '\\' "
                     f"OR b.author_key LIKE {pattern} ESCAPE '\\')")
    if author:
        where.append(f"b.author_key = {parameter()}")
    if language:
        where.append(f"b.language = {parameter()}")
    if owner:
        where.append(f"b.owner_uid = {parameter()}")
    columns = ", ".join(f"b.{c}" for c in VIEW_COLUMNS) + SORT_KEYS
    order, outer_order = ORDER[sort].format(t="b"), ORDER[sort].format(t="p")
    if tag and not where:
        return _one_tag_statement(parameter(), parameter(), parameter(), columns, order,
                                  outer_order)
    prelude, count = "", None
    if tag:
        # The tag's uid once; no such tag: nothing to scan at all.
        prelude = f"WITH tag AS (SELECT uid FROM tags WHERE name_key = {parameter()}) "
        where += ["(SELECT uid FROM tag) IS NOT NULL",
                  "EXISTS (SELECT 1 FROM book_tags bt WHERE bt.book_uid = b.uid "
                  "AND bt.tag_uid = (SELECT uid FROM tag))"]
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    if not where:  # the whole catalogue: its size as the triggers keep it
        count = ("SELECT COALESCE((SELECT books FROM book_totals), "
                 "(SELECT count(*) FROM books)) AS total")
    count = count or f"SELECT count(*) AS total FROM books b{condition}"
    limit, offset = parameter(), parameter()
    if not where:
        # The whole catalogue: its plan is the same index walk whatever the page, but the
        # planner, seeing LIMIT and OFFSET values, keeps planning it anew each time (a
        # custom plan looks cheaper than the generic one, costed at 10 % of the rows),
        # and at deep offsets picks a worse plan. Measured 0.74 → 0.48 ms a page, 6.9 →
        # 1.8 ms at offset 5,000, once planned once.
        limit, offset = _unseen(limit), _unseen(offset)
    return (
        f"{prelude}SELECT c.total, {', '.join('p.' + c for c in VIEW_COLUMNS)}, "
        f"{_tags_of('p')} AS tags "
        f"FROM ({count}) c LEFT JOIN LATERAL ("
        f"SELECT {columns} FROM books b{condition} "
        f"ORDER BY {order} LIMIT {limit} OFFSET {offset}) p ON true ORDER BY {outer_order}"
    )


def _unseen(parameter: str) -> str:
    """A LIMIT or OFFSET value behind a sub-select: unknown to the planner, so it cannot
    make the statement's plan depend on it, and the statement is planned once per
    connection (a generic plan) instead of at every execution."""
    return f"(SELECT {parameter}::bigint)"


def _one_tag_statement(name: str, limit: str, offset: str, columns: str, order: str,
                       outer_order: str) -> str:
    """A page of one tag's books, whichever way is cheaper for that tag, decided as the
    statement runs from the tag's count (kept by triggers, migration 0007):

    - walk: books in the page's order, each probed for the tag, until the page is full.
      About (offset + limit) * books / links probes: right for a common tag.
    - pick: the tag's links, their books, sorted. About `links` rows: right for a rare
      tag, or a page deep enough.

    Walk when links^2 >= (offset + limit) * books, about where the two costs meet. The
    planner cannot choose so itself: it plans before it knows the tag, so it went by
    LIMIT alone, walking for a page of 20 and picking for a page of 100, whatever the
    tag (on the benchmark's data: 3.0 ms for a page of 20 of a tag of 170 books, 11.9 ms
    for a page of 100 of a tag of 4,609; now 1.5 and 2.7 ms). Each branch's shape is
    fixed by how it is written: the walk's probe is a LATERAL subquery with LIMIT 1,
    which cannot become a join, and the pick reads each book by its key through a
    LATERAL subquery fenced by OFFSET 0 (left to itself, the planner hash-joined the
    whole books table). The branch not taken is skipped by a one-time filter. LIMIT and
    OFFSET sit behind sub-selects, so one generic plan serves every tag and page and
    the statement is planned once per connection (re-planning took 0.6 ms a page). The
    total is the kept count: a few rows to add up instead of every link to count."""
    limit, offset = _unseen(limit), _unseen(offset)
    links = "(SELECT n FROM links)"
    walk = (f"{links} * {links} >= ({limit} + {offset}) * "
            "COALESCE((SELECT books FROM book_totals), 0)")
    return (
        f"WITH tag AS (SELECT uid FROM tags WHERE name_key = {name}), "
        "links AS (SELECT COALESCE(sum(n.links), 0)::bigint AS n FROM tag_link_counts n "
        "WHERE n.tag_uid = (SELECT uid FROM tag)) "
        f"SELECT c.total, {', '.join('p.' + c for c in VIEW_COLUMNS)}, "
        f"{_tags_of('p')} AS tags "
        f"FROM (SELECT {links} AS total) c LEFT JOIN LATERAL ("
        f"(SELECT {columns} FROM books b CROSS JOIN LATERAL (SELECT 1 FROM book_tags bt "
        "WHERE bt.book_uid = b.uid AND bt.tag_uid = (SELECT uid FROM tag) LIMIT 1) hit "
        f"WHERE {walk} ORDER BY {order} LIMIT {limit} OFFSET {offset}) "
        f"UNION ALL (SELECT b.* FROM (SELECT {columns} FROM book_tags bt CROSS JOIN LATERAL "
        "(SELECT * FROM books b WHERE b.uid = bt.book_uid OFFSET 0) b "
        "WHERE bt.tag_uid = (SELECT uid FROM tag) "
        f"AND NOT ({walk}) OFFSET 0) b ORDER BY {order} LIMIT {limit} OFFSET {offset})"
        f") p ON true ORDER BY {outer_order}"
    )


_BOOK = len(BOOK_COLUMNS)


def _view(row: asyncpg.Record, start: int) -> BookView:
    """The book's columns from `start` on, in VIEW_COLUMNS order, then its tags (read by
    position: by name costs a lookup per column, twelve per book)."""
    counts = start + _BOOK
    return BookView(Book(*row[start:counts]), [Tag(*tag) for tag in row[counts + 2]],
                    row[counts], row[counts + 1])


class PostgresBookReads:
    def __init__(self, pool: PostgresPool) -> None:
        self._pool = pool

    async def detail(self, uid: UUID) -> BookDetail | None:
        row = await self._pool.fetchrow(DETAIL, uid)
        if row is None:
            return None
        return BookDetail(_view(row, 0), [Review(*review) for review in row["reviews"]])

    async def search(self, query: BookQuery) -> Page[BookView]:
        arguments: list[Any] = []
        if query.text is not None:
            arguments.append(like_pattern(query.text))
        if query.author is not None:
            arguments.append(search_key(query.author))
        if query.language is not None:
            arguments.append(query.language.lower())
        if query.owner_uid is not None:
            arguments.append(query.owner_uid)
        if query.tag is not None:
            arguments.append(tag_key(query.tag))
        statement = page_statement(query.text is not None, query.author is not None,
                                   query.language is not None, query.owner_uid is not None,
                                   query.tag is not None, query.sort)
        rows = await self._pool.fetch(statement, *arguments, query.limit, query.offset)
        items = [_view(row, 1) for row in rows if row["uid"] is not None]  # 0: the total
        return Page(items, rows[0]["total"], query.limit, query.offset)
