"""The two reference apps the service is measured against, on the same uvicorn settings as
`bookly serve`: a bare Starlette route and a bare FastAPI route with a typed return
(a pydantic model). Both answer `GET /` with the same ~2 KB JSON object (a book page).

    python -m tests.benchmarks.reference_apps starlette|fastapi --port 8101
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from uuid import UUID

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

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
    uid=_uid(1), title="The Quiet Engineering of Cathedrals", author="Mara Ellison",
    publisher="Northwind Press", published_date=date(2011, 3, 14), page_count=412,
    language="en", owner_uid=_uid(2),
    tags=[TagOut(uid=_uid(10 + i), name=name, created_at=WHEN)
          for i, name in enumerate(("History", "Architecture", "Craft"))],
    review_count=4, average_rating=4.25, created_at=WHEN, updated_at=WHEN,
    reviews=[ReviewOut(uid=_uid(100 + i), book_uid=_uid(1), user_uid=_uid(200 + i),
                       rating=3 + i % 3, review_text=TEXT, created_at=WHEN, updated_at=WHEN)
             for i in range(4)],
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


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The keyword arguments of `bookly serve` (entrypoints/cli/main.py), one worker.
    uvicorn.run(APPS[args.app], host=args.host, port=args.port, workers=1,
                proxy_headers=False, access_log=False, log_config=None)


if __name__ == "__main__":
    main()
