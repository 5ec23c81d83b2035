"""The catalogue's reads, one statement each, written once for PostgreSQL and SQLite.

A page walks one index in the page's order, from its position (or offset), and stops
after `limit + 1` rows; the whole catalogue and each owner, language and author have an
index per sort (`tables.py`), and a tag's books are read through its links, which carry
their book's sort keys (the rating in `book_tag_ratings`). The rating orders put books
without reviews last both ways: the rated books are read first, then the unrated ones,
each from the same index. The page's total and each book's tags come in the same
statement (on PostgreSQL an array of the tags table's records, on SQLite a JSON array:
the one thing the two dialects spell differently); rows are read by column name.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeAlias
from uuid import UUID

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    true,
    union_all,
)

from adapters.sqlalchemy.counts import bounded_count, kept, kept_tag, list_name, tag_uid_named
from adapters.sqlalchemy.keyset import beyond, limit_of, ordered, rows_of
from adapters.sqlalchemy.tables import book_tag_ratings, book_tags, books, reviews, tags
from application.ports.books import (
    NEWEST_REVIEWS,
    BookDetail,
    BookQuery,
    BookSort,
    BookView,
    book_position,
    search_key,
)
from application.ports.pages import Page, bounded, fetched_page
from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag, tag_key

BOOK_COLUMNS = (
    "uid",
    "owner_uid",
    "title",
    "author",
    "publisher",
    "published_date",
    "page_count",
    "language",
    "created_at",
    "updated_at",
)
VIEW_COLUMNS = (*BOOK_COLUMNS, "review_count", "average_rating")
TAG_FIELDS = ("uid", "name", "created_at")
REVIEW_FIELDS = ("uid", "book_uid", "user_uid", "rating", "review_text", "created_at", "updated_at")
SORT_COLUMN = {
    BookSort.NEWEST: "created_at",
    BookSort.OLDEST: "created_at",
    BookSort.TITLE: "title_key",
    BookSort.TITLE_DESC: "title_key",
    BookSort.RATING: "average_rating",
    BookSort.RATING_DESC: "average_rating",
}
DESCENDING = {BookSort.NEWEST, BookSort.TITLE_DESC, BookSort.RATING_DESC}
RATING_SORTS = {BookSort.RATING, BookSort.RATING_DESC}
RATED, UNRATED = 0, 1  # the two runs of a rating order
# Tags recur on every page: their uids and timestamps are read from text once each.
TEXT_VALUES_KEPT = 4096


AnySelect: TypeAlias = Select[*tuple[Any, ...]]  # a select of any columns


class NamedRow(Protocol):
    """A row read by column name: SQLAlchemy's `RowMapping`, or asyncpg's `Record`."""

    def __getitem__(self, name: str, /) -> Any: ...


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `%`, `_` and `\\` taken literally."""
    escaped = search_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def json_rows(rows: AnySelect, fields: Sequence[str], outer: FromClause) -> ColumnElement[Any]:
    """SQLite: the rows of `rows` (a select of `fields`, correlated with the enclosing
    query's `outer`) as one JSON array of objects; NULL when there are none. The array's
    order is not the rows' order: the reader sorts."""
    source = rows.correlate(outer).subquery()
    pairs: list[Any] = []
    for name in fields:
        pairs += [literal_column(f"'{name}'"), source.c[name]]
    return select(func.json_group_array(func.json_object(*pairs))).scalar_subquery()


def row_array(rows: AnySelect) -> ColumnElement[Any]:
    """PostgreSQL: `ARRAY(rows)`, `rows` selecting whole rows of a table: asyncpg reads
    each as a record of named, typed fields."""
    return func.array(rows.scalar_subquery())


def tags_of(dialect: str, book_uid: ColumnElement[UUID]) -> ColumnElement[Any]:
    """A book's tags (the reader sorts them): on PostgreSQL, each tag found by its key
    from the array of the book's links' tag uids, a few index lookups per book."""
    linked = (
        select(book_tags.c.tag_uid)
        .where(book_tags.c.book_uid == book_uid)
        .correlate(book_uid.table)
    )
    if dialect == "postgresql":
        return row_array(
            select(tags.table_valued()).where(
                tags.c.uid == func.any(func.array(linked.scalar_subquery()))
            )
        )
    rows = select(tags.c.uid, tags.c.name, tags.c.created_at, tags.c.name_key).where(
        tags.c.uid.in_(linked.scalar_subquery())
    )
    return json_rows(rows, (*TAG_FIELDS, "name_key"), book_uid.table)


def newest_reviews_of(dialect: str, book_uid: ColumnElement[UUID]) -> ColumnElement[Any]:
    newest = (reviews.c.created_at.desc(), reviews.c.uid.desc())
    if dialect == "postgresql":
        return row_array(
            select(reviews.table_valued())
            .where(reviews.c.book_uid == book_uid)
            .order_by(*newest)
            .limit(limit_of(NEWEST_REVIEWS))
        )
    rows = (
        select(*(reviews.c[name] for name in REVIEW_FIELDS))
        .where(reviews.c.book_uid == book_uid)
        .order_by(*newest)
        .limit(limit_of(NEWEST_REVIEWS))
    )
    return json_rows(rows, REVIEW_FIELDS, book_uid.table)


def _json(packed: str | None) -> list[dict[str, Any]]:
    return orjson.loads(packed) if packed else []


@functools.lru_cache(maxsize=TEXT_VALUES_KEPT)
def timestamp(text: str) -> datetime:
    """A timestamp as either database writes it in JSON, in UTC."""
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


uid_of = functools.lru_cache(maxsize=TEXT_VALUES_KEPT)(UUID)  # a uid in JSON, as a UUID


def to_tags(packed: Any) -> list[Tag]:
    """By name (case-insensitive), then uid: from PostgreSQL's records, or from SQLite's
    JSON (where a uid's text sorts as the uid does)."""
    if not isinstance(packed, str):
        found = sorted(packed or (), key=lambda t: (t["name_key"], t["uid"]))
        return [Tag(uid=t["uid"], name=t["name"], created_at=t["created_at"]) for t in found]
    found = sorted(_json(packed), key=lambda t: (t["name_key"], t["uid"]))
    return [Tag(uid_of(t["uid"]), t["name"], timestamp(t["created_at"])) for t in found]


def to_reviews(packed: Any) -> list[Review]:
    """Newest first (ties by uid): as PostgreSQL's records come, or from SQLite's JSON."""
    if not isinstance(packed, str):
        return [Review(**{name: r[name] for name in REVIEW_FIELDS}) for r in packed or ()]
    found = [
        Review(
            UUID(r["uid"]),
            uid_of(r["book_uid"]),
            UUID(r["user_uid"]),
            r["rating"],
            r["review_text"],
            timestamp(r["created_at"]),
            timestamp(r["updated_at"]),
        )
        for r in _json(packed)
    ]
    return sorted(found, key=lambda r: (r.created_at, r.uid), reverse=True)


def to_book(row: NamedRow) -> Book:
    return Book(
        uid=row["uid"],
        owner_uid=row["owner_uid"],
        title=row["title"],
        author=row["author"],
        publisher=row["publisher"],
        published_date=row["published_date"],
        page_count=row["page_count"],
        language=row["language"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def to_view(row: NamedRow) -> BookView:
    return BookView(to_book(row), to_tags(row["tags"]), row["review_count"], row["average_rating"])


@functools.cache
def detail_statement(dialect: str) -> AnySelect:
    """A book by `uid` (a parameter), with its tags and newest reviews."""
    return select(
        *(books.c[name] for name in VIEW_COLUMNS),
        tags_of(dialect, books.c.uid).label("tags"),
        newest_reviews_of(dialect, books.c.uid).label("reviews"),
    ).where(books.c.uid == bindparam("uid", type_=books.c.uid.type))


def to_detail(row: NamedRow) -> BookDetail:
    return BookDetail(to_view(row), to_reviews(row["reviews"]))


@dataclass(frozen=True, slots=True)
class PageShape:
    """What a page's statement depends on (its values are parameters): one statement is
    built per shape and kept."""

    text: bool
    author: bool
    language: bool
    owner: bool
    tag: bool
    sort: BookSort
    counted: str | None  # the kept list the total is: books, owner, language, tag
    after: str | None  # from a position among the rated ("key") or "unrated" books
    offset: bool

    @classmethod
    def of(cls, query: BookQuery) -> PageShape:
        counted = query.counted_list()
        after = None if query.after is None else "unrated" if query.after[0] is None else "key"
        return cls(
            query.text is not None,
            query.author is not None,
            query.language is not None,
            query.owner_uid is not None,
            query.tag is not None,
            query.order,
            counted and counted[0],
            after,
            query.after is None and query.offset > 0,
        )


def page_parameters(query: BookQuery) -> dict[str, Any]:
    """The values of the statement of `PageShape.of(query)`."""
    skip = 0 if query.after is not None else query.offset
    values: dict[str, Any] = {
        "rows": query.limit + 1,
        "run_rows": skip + query.limit + 1,
        "skip": skip,
    }
    if query.text is not None:
        values["pattern"] = like_pattern(query.text)
    if query.author is not None:
        values["author_key"] = search_key(query.author)
    if query.language is not None:
        values["language"] = query.language.lower()
    if query.owner_uid is not None:
        values["owner_uid"] = query.owner_uid
    if query.tag is not None:
        values["tag_key"] = tag_key(query.tag)
    if query.after is not None:
        values["after_key"], values["after_uid"] = query.after
    counted = query.counted_list()
    if counted and counted[0] in ("owner", "language"):
        values["count_name"] = list_name(f"books:{counted[0]}", counted[1])
    return values


class _Walk:
    """What a page reads: the uids (and sort keys) of the books matching a query, from the
    index of its order. Those columns are in the index itself, so an index-only scan finds
    the page whatever the planner expects of the filter's values; the page's rows are
    then read by uid."""

    def __init__(self, shape: PageShape) -> None:
        self.shape = shape
        self.sort = shape.sort
        if shape.tag:  # through the tag's links, which carry the sort keys and language
            links = book_tag_ratings if self.sort in RATING_SORTS else book_tags
            self.keys = links
            self.uid = links.c.book_uid
            joined = shape.text or shape.author or shape.owner  # filters of the book's own
            self.source: FromClause = (
                links.join(books, books.c.uid == links.c.book_uid) if joined else links
            )
        else:
            self.source, self.keys, self.uid = books, books, books.c.uid
        self.key = self.keys.c[SORT_COLUMN[self.sort]]

    def conditions(self) -> list[ColumnElement[bool]]:
        shape, found = self.shape, []
        if shape.tag:
            found.append(self.keys.c.tag_uid == tag_uid_named(bindparam("tag_key")))
        if shape.text:
            pattern: BindParameter[str] = bindparam("pattern")
            found.append(
                books.c.title_key.like(pattern, escape="\\")
                | books.c.author_key.like(pattern, escape="\\")
            )
        if shape.author:
            found.append(books.c.author_key == bindparam("author_key"))
        if shape.language:
            found.append(self.keys.c.language == bindparam("language"))
        if shape.owner:
            found.append(books.c.owner_uid == bindparam("owner_uid", type_=books.c.owner_uid.type))
        return found

    def matches(self) -> Select[Any]:
        return select(self.uid).select_from(self.source).where(*self.conditions())

    def _ordered(self, *columns: Any) -> list[Any]:
        return ordered(columns, self.sort in DESCENDING)

    def _beyond(self, among_unrated: bool = False) -> ColumnElement[bool]:
        """After the position (after_key, after_uid) in the walk's order; after after_uid
        alone among books whose sort key is NULL."""
        uid = bindparam("after_uid", type_=self.uid.type)
        if among_unrated:
            return beyond([self.uid], [uid], self.sort in DESCENDING)
        key = bindparam("after_key", type_=self.key.type)
        return beyond([self.key, self.uid], [key, uid], self.sort in DESCENDING)

    def _walk(self, columns: list[Any], where: list[ColumnElement[bool]], limit: str) -> AnySelect:
        return (
            select(*columns)
            .select_from(self.source)
            .where(*self.conditions(), *where)
            .order_by(*self._ordered(self.key, self.uid))
            .limit(rows_of(limit))
        )

    def page(self) -> tuple[AnySelect, list[str]]:
        """The page's uids and sort keys, `limit + 1` of them (one more says that more
        follow), and the names of the columns that order them (then uid)."""
        shape = self.shape
        skip = bindparam("skip", type_=Integer) if shape.offset else None
        columns = [self.key.label("sort_key"), self.uid.label("uid")]
        if self.sort not in RATING_SORTS:
            walk = self._walk(columns, [] if shape.after is None else [self._beyond()], "rows")
            return walk.offset(skip), ["sort_key"]
        # Rated books (from the position, if it is among them), then unrated ones; each
        # run reads its index up to what the page can need, and this page is sorted
        # from those few rows.
        runs = []
        if shape.after != "unrated":
            where = [self.key.is_not(None)] + ([self._beyond()] if shape.after else [])
            runs.append(
                self._walk([*columns, literal_column(str(RATED)).label("run")], where, "run_rows")
            )
        where = [self.key.is_(None)]
        if shape.after == "unrated":
            where.append(self._beyond(among_unrated=True))
        runs.append(
            self._walk([*columns, literal_column(str(UNRATED)).label("run")], where, "run_rows")
        )
        both = union_all(*(select(run.subquery()) for run in runs)).subquery()
        return (
            select(both)
            .order_by(both.c.run, *self._ordered(both.c.sort_key, both.c.uid))
            .limit(rows_of("rows"))
            .offset(skip)
        ), ["run", "sort_key"]


@functools.lru_cache(maxsize=512)
def page_statement(dialect: str, shape: PageShape) -> AnySelect:
    """The page's total (first column) and its books with their tags: one row per book,
    or one row of NULLs beside the total when the page is empty. Its values are
    `page_parameters`."""
    walk = _Walk(shape)
    if shape.counted == "books":
        total = kept(list_name("books"))
    elif shape.counted == "tag":
        total = kept_tag(tag_uid_named(bindparam("tag_key")))
    elif shape.counted:
        total = kept(bindparam("count_name"))
    else:
        total = bounded_count(walk.matches())
    counted = total.subquery()
    rows, order = walk.page()
    page = rows.subquery("page")
    ordering = walk._ordered(page.c.sort_key, page.c.uid)
    if order[0] == "run":
        ordering.insert(0, page.c.run)
    found = page.join(books, books.c.uid == page.c.uid)
    return (
        select(
            counted.c.n.label("total"),
            *(books.c[name] for name in VIEW_COLUMNS),
            tags_of(dialect, books.c.uid).label("tags"),
        )
        .select_from(counted.outerjoin(found, true()))
        .order_by(*ordering)
    )


def to_page(query: BookQuery, rows: Sequence[NamedRow]) -> Page[BookView]:
    counted = query.counted_list()
    total, exact = (rows[0]["total"], True) if counted else bounded(rows[0]["total"])
    views = [to_view(row) for row in rows if row["uid"] is not None]
    sort = query.order
    return fetched_page(
        views,
        query.limit,
        None if query.after else query.offset,
        total,
        exact,
        lambda view: book_position(view, sort),
    )
