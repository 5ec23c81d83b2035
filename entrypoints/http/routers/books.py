"""/api/v1/books: the catalogue."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from application.ports.books import BookQuery, BookSort, Page
from domain.books import Book, BookDetails
from entrypoints.http.book_schemas import BookDetailOut, BookIn, BookOut, BookPatch, PageOut
from entrypoints.http.deps import ContainerDep, PrincipalDep
from entrypoints.http.responses import errors
from entrypoints.http.routers import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/books", tags=["books"])
MAX_OFFSET = 1_000_000_000


async def book_query(
    q: Annotated[str | None, Query(max_length=200,
                                   description="Substring of the title or author")] = None,
    author: Annotated[str | None, Query(max_length=255,
                                        description="The author's whole name")] = None,
    language: Annotated[str | None, Query(max_length=35)] = None,
    owner_uid: UUID | None = None,
    sort: BookSort = BookSort.NEWEST,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> BookQuery:
    """Case-insensitive filters that combine with AND; a stable order (ties by uid)."""
    return BookQuery(text=q, author=author, language=language, owner_uid=owner_uid,
                     sort=sort, limit=limit, offset=offset)


QueryDep = Annotated[BookQuery, Depends(book_query)]


def page_out(page: Page[Book]) -> PageOut[BookOut]:
    return PageOut[BookOut](items=[BookOut.model_validate(b) for b in page.items],
                            total=page.total, limit=page.limit, offset=page.offset)


@router.get("", response_model=PageOut[BookOut], responses=errors(422))
async def list_books(query: QueryDep, container: ContainerDep) -> PageOut[BookOut]:
    return page_out(await container.list_books().execute(query))


@router.post("", status_code=201, response_model=BookOut, responses=errors(401, 403, 422))
async def add_book(
    body: BookIn, principal: PrincipalDep, container: ContainerDep, response: Response
) -> BookOut:
    """Verified users and admins add books; the caller owns what they add."""
    book = await container.add_book().execute(principal, BookDetails(**body.model_dump()))
    response.headers["Location"] = f"{router.prefix}/{book.uid}"
    return BookOut.model_validate(book)


@router.get("/{uid}", response_model=BookDetailOut, responses=errors(404, 422))
async def get_book(uid: UUID, container: ContainerDep) -> BookDetailOut:
    return BookDetailOut.model_validate(await container.get_book().execute(uid))


@router.patch("/{uid}", response_model=BookOut, responses=errors(401, 403, 404, 422))
async def update_book(
    uid: UUID, body: BookPatch, principal: PrincipalDep, container: ContainerDep
) -> BookOut:
    """The owner or an admin changes any subset of the fields."""
    changes = body.model_dump(exclude_unset=True)
    return BookOut.model_validate(await container.update_book().execute(principal, uid, changes))


@router.delete("/{uid}", status_code=204, responses=errors(401, 403, 404, 422))
async def delete_book(uid: UUID, principal: PrincipalDep, container: ContainerDep) -> Response:
    await container.delete_book().execute(principal, uid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
