"""Books in a dict; search mirrors the SQL adapter's semantics."""

from __future__ import annotations

from uuid import UUID

from adapters.memory.rows import StagedRows
from application.ports.books import BookQuery, BookSort, Page
from domain.books import Book


def search_key(text: str) -> str:
    """Case-insensitive form used for matching and sorting, as the SQL adapter stores it."""
    return text.casefold()


class MemoryBookRepository:
    def __init__(self, rows: StagedRows[Book]) -> None:
        self._rows = rows

    async def add(self, book: Book) -> None:
        self._rows.put(book.uid, book)

    async def get(self, uid: UUID) -> Book | None:
        return self._rows.get(uid)

    async def update(self, book: Book) -> None:
        self._rows.put(book.uid, book)

    async def delete(self, book: Book) -> None:
        self._rows.remove(book.uid)

    async def search(self, query: BookQuery) -> Page[Book]:
        found = [book for book in self._rows.values() if _matches(book, query)]
        _sort(found, query.sort)
        return Page(found[query.offset:query.offset + query.limit], len(found),
                    query.limit, query.offset)


def _matches(book: Book, query: BookQuery) -> bool:
    if query.text is not None:
        needle = search_key(query.text)
        if needle not in search_key(book.title) and needle not in search_key(book.author):
            return False
    if query.author is not None and search_key(book.author) != search_key(query.author):
        return False
    if query.language is not None and book.language != query.language.lower():
        return False
    return query.owner_uid is None or book.owner_uid == query.owner_uid


def _sort(books: list[Book], sort: BookSort) -> None:
    if sort in (BookSort.NEWEST, BookSort.OLDEST):
        books.sort(key=lambda b: (b.created_at, b.uid), reverse=sort is BookSort.NEWEST)
    else:
        books.sort(key=lambda b: (search_key(b.title), b.uid),
                   reverse=sort is BookSort.TITLE_DESC)
