"""The reference apps the service is measured against, on the same uvicorn settings as
`bookly serve`: a bare Starlette route and a bare FastAPI route with a typed return
(a pydantic model), both answering `GET /` with the same ~2 KB JSON object (a book page);
and the write ceiling, a bare FastAPI route that adds a book (`POST /books`, the body of
Bookly's, validated by pydantic) as one row of a table of its own, through an asyncpg pool.

    python -m tests.benchmarks.reference_apps starlette|fastapi --port 8101
    python -m tests.benchmarks.reference_apps write --port 8102 --dsn postgresql://...
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.sqlalchemy.books import book_values
from domain.books import Book
from entrypoints.http.book_schemas import BookIn, BookOut

WHEN = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
TEXT = "A patient, generous book about building things that last; the ending earns it."


class TagOut(BaseModel):
    uid: UUID
    name: str
    created_at: datetime


class ReviewOut(BaseModel):
    uid: UUID
    book_uid: UUID
    user_uid: UUID
    rating: int
    review_text: str
    created_at: datetime
    updated_at: datetime


class BookPage(BaseModel):
    uid: UUID
    title: str
    author: str
    publisher: str
    published_date: date
    page_count: int
    language: str
    owner_uid: UUID
    tags: list[TagOut]
    review_count: int
    average_rating: float | None
    created_at: datetime
    updated_at: datetime
    reviews: list[ReviewOut]


def _uid(n: int) -> UUID:
    return UUID(int=0x5EED_0000_0000_4000_8000_0000_0000_0000 + n)


BOOK = BookPage(
    uid=_uid(1),
    title="The Quiet Engineering of Cathedrals",
    author="Mara Ellison",
    publisher="Northwind Press",
    published_date=date(2011, 3, 14),
    page_count=412,
    language="en",
    owner_uid=_uid(2),
    tags=[
        TagOut(uid=_uid(10 + i), name=name, created_at=WHEN)
        for i, name in enumerate(("History", "Architecture", "Craft"))
    ],
    review_count=4,
    average_rating=4.25,
    created_at=WHEN,
    updated_at=WHEN,
    reviews=[
        ReviewOut(
            uid=_uid(100 + i),
            book_uid=_uid(1),
            user_uid=_uid(200 + i),
            rating=3 + i % 3,
            review_text=TEXT,
            created_at=WHEN,
            updated_at=WHEN,
        )
        for i in range(4)
    ],
)
PAYLOAD = BOOK.model_dump(mode="json")  # the same object, as plain JSON data


async def starlette_book(_request: Request) -> JSONResponse:
    return JSONResponse(PAYLOAD)


starlette_app = Starlette(routes=[Route("/", starlette_book)])
fastapi_app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@fastapi_app.get("/")
async def fastapi_book() -> BookPage:
    return BOOK


APPS = {"starlette": starlette_app, "fastapi": fastapi_app}

# The write ceiling's table: created by the harness as `CREATE TABLE ... (LIKE books
# INCLUDING ALL)` (the same columns, defaults, checks and indexes; no triggers, no foreign
# keys) and dropped after.
CEILING_TABLE = "write_ceiling_books"
CEILING_POOL_SIZE = 10  # as BOOKLY_DATABASE_POOL_SIZE's default


def write_app(dsn: str) -> FastAPI:
    """The body and the answer are Bookly's own pydantic models (the same validation);
    the row's columns are the repository's (`book_values`), so the table's required
    columns are filled whatever the schema adds."""
    owner = uuid4()
    columns = list(
        book_values(Book(owner, owner, "t", "a", "p", date(2000, 1, 1), 1, "en", WHEN, WHEN))
    )
    statement = (
        f"INSERT INTO {CEILING_TABLE} ({', '.join(columns)}) "
        f"VALUES ({', '.join(f'${n}' for n in range(1, len(columns) + 1))})"
    )
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pools.append(await asyncpg.create_pool(dsn, min_size=1, max_size=CEILING_POOL_SIZE))
        yield
        await pools.pop().close()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/books", status_code=201)
    async def add_book(body: BookIn) -> BookOut:
        now = datetime.now(UTC)
        book = Book(
            uuid4(), owner, **body.model_dump(exclude={"tags"}), created_at=now, updated_at=now
        )
        await pools[0].execute(statement, *book_values(book).values())
        return BookOut.model_validate(book)

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=[*sorted(APPS), "write"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", help="the write ceiling's database")
    args = parser.parse_args()
    app = write_app(args.dsn) if args.app == "write" else APPS[args.app]
    # The keyword arguments of `bookly serve` (entrypoints/cli/main.py), one worker.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        proxy_headers=False,
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
