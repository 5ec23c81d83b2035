"""/api/v1/books: the catalogue."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import Field

from application.ports.books import BookDetail, BookQuery, BookSort, BookView
from application.ports.pages import Page
from application.preconditions import Precondition
from domain.books import LANGUAGE_MAX_LENGTH, BookDetails
from entrypoints.http.book_schemas import (
    BookDetailOut,
    BookIn,
    BookOut,
    BookPatch,
    PageOut,
    ReviewIn,
    ReviewOut,
    TagNamesIn,
)
from entrypoints.http.conditional import Condition, IfMatch, last_modified
from entrypoints.http.deps import PrincipalDep
from entrypoints.http.documents import JSONDocument, as_is, book_detail_document, book_document
from entrypoints.http.idempotency import IDEMPOTENT, IdempotentRoute
from entrypoints.http.paging import PagingParams, PagingQuery, paged
from entrypoints.http.patterns import NO_NUL
from entrypoints.http.responses import NEXT_PAGE, errors, link, linked
from entrypoints.http.use_cases import (
    AddBookDep,
    DeleteBookDep,
    GetBookDep,
    ListBooksDep,
    ListReviewsDep,
    ReviewBookDep,
    TagBookDep,
    UpdateBookDep,
)
from entrypoints.links import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/books", tags=["books"], route_class=IdempotentRoute)
BOOK = f"{API_PREFIX}/books/{{uid}}"
THIS_BOOK = "$response.body#/uid"
BOOK_LINKS = {
    "GetBook": link("GET", BOOK, "Read this book", uid=THIS_BOOK),
    "UpdateBook": link("PATCH", BOOK, "Change this book", uid=THIS_BOOK),
    "DeleteBook": link("DELETE", BOOK, "Delete this book", uid=THIS_BOOK),
    "BookReviews": link("GET", f"{BOOK}/reviews", "Its reviews", uid=THIS_BOOK),
    "ReviewBook": link("POST", f"{BOOK}/reviews", "Review this book", uid=THIS_BOOK),
    "TagBook": link("POST", f"{BOOK}/tags", "Tag this book", uid=THIS_BOOK),
    "OwnersBooks": link(
        "GET",
        f"{API_PREFIX}/users/{{uid}}/books",
        "Its owner's books",
        uid="$response.body#/owner_uid",
    ),
}
REVIEW_LINKS = {
    "GetReview": link(
        "GET", f"{API_PREFIX}/reviews/{{uid}}", "Read this review", uid="$response.body#/uid"
    ),
    "EditReview": link(
        "PATCH", f"{API_PREFIX}/reviews/{{uid}}", "Change this review", uid="$response.body#/uid"
    ),
    "DeleteReview": link(
        "DELETE", f"{API_PREFIX}/reviews/{{uid}}", "Delete this review", uid="$response.body#/uid"
    ),
    "ReviewedBook": link("GET", BOOK, "The book reviewed", uid="$response.body#/book_uid"),
}


class BookListParams(PagingParams):
    """Case-insensitive filters that combine with AND; a stable order (ties by uid)."""

    q: Annotated[
        str | None,
        Field(max_length=200, pattern=NO_NUL, description="Substring of the title or author"),
    ] = None
    author: Annotated[
        str | None, Field(max_length=255, pattern=NO_NUL, description="The author's whole name")
    ] = None
    language: Annotated[str | None, Field(max_length=LANGUAGE_MAX_LENGTH, pattern=NO_NUL)] = None
    owner_uid: UUID | None = None
    tag: Annotated[str | None, Field(max_length=40, pattern=NO_NUL, description="A tag's name")] = (
        None
    )
    sort: Annotated[
        BookSort | None,
        Field(
            description=(
                "`-created_at` (newest first) unless given; books without reviews come last in "
                "both rating orders"
            )
        ),
    ] = None

    def query(self) -> BookQuery:
        return BookQuery(
            text=self.q,
            author=self.author,
            language=self.language,
            owner_uid=self.owner_uid,
            tag=self.tag,
            sort=self.sort,
        )


BookListQuery = Annotated[BookListParams, Query()]


def books_page(request: Request, page: Page[BookView]) -> JSONDocument:
    return paged(request, page, book_document)


@router.get("", response_model=PageOut[BookOut], responses={**errors(422), **NEXT_PAGE})
async def list_books(
    params: BookListQuery, request: Request, use_case: ListBooksDep
) -> JSONDocument:
    return books_page(request, await use_case.execute(params.query(), params.request()))


@router.post(
    "",
    status_code=201,
    response_model=BookOut,
    dependencies=[IDEMPOTENT],
    responses={**errors(401, 403, 409, 422), **linked(201, "The book added", **BOOK_LINKS)},
)
async def add_book(body: BookIn, principal: PrincipalDep, use_case: AddBookDep) -> JSONDocument:
    """Verified users and admins add books; the caller owns what they add. Unknown tag
    names become tags."""
    fields = body.model_dump(exclude={"tags"})
    view = await use_case.execute(principal, BookDetails(**fields), body.tags)
    return JSONDocument(
        book_document(view),
        status_code=201,
        headers={"Location": f"{router.prefix}/{view.book.uid}"},
    )


@router.get("/{uid}", response_model=BookDetailOut, responses=errors(404, 422))
async def get_book(uid: UUID, use_case: GetBookDep) -> JSONDocument:
    """With its tags, its reviews in figures and its newest reviews (at most 10)."""
    detail = await use_case.execute(uid)
    changed = last_modified(
        detail.view.book.updated_at, *(review.updated_at for review in detail.newest_reviews)
    )
    return JSONDocument(book_detail_document(detail), headers=changed)


@router.patch(
    "/{uid}",
    response_model=BookOut,
    responses={
        **errors(401, 403, 404, 412, 422, 428),
        **linked(200, "The book changed", **BOOK_LINKS),
    },
)
async def update_book(
    uid: UUID, body: BookPatch, principal: PrincipalDep, use_case: UpdateBookDep, expected: IfMatch
) -> JSONDocument:
    """The owner or an admin changes any subset of the fields."""
    changes = body.model_dump(exclude_unset=True)
    view = await use_case.execute(principal, uid, changes, as_shown(expected))
    return JSONDocument(book_document(view))


@router.delete("/{uid}", status_code=204, responses=errors(401, 403, 404, 412, 422, 428))
async def delete_book(
    uid: UUID, principal: PrincipalDep, use_case: DeleteBookDep, expected: IfMatch
) -> Response:
    await use_case.execute(principal, uid, as_shown(expected))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def as_shown(expected: Condition | None) -> Precondition[BookDetail] | None:
    """The client's If-Match, held to the book as GET /books/{uid} shows it."""
    if expected is None:
        return None
    check = expected
    return lambda detail: check(book_detail_document(detail))


@router.get(
    "/{uid}/reviews", response_model=PageOut[ReviewOut], responses={**errors(404, 422), **NEXT_PAGE}
)
async def book_reviews(
    uid: UUID, paging: PagingQuery, request: Request, use_case: ListReviewsDep
) -> JSONDocument:
    """Newest first."""
    return paged(request, await use_case.for_book(uid, paging.request()), as_is)


@router.post(
    "/{uid}/reviews",
    status_code=201,
    response_model=ReviewOut,
    dependencies=[IDEMPOTENT],
    responses={
        **errors(401, 403, 404, 409, 422),
        **linked(201, "The review written", **REVIEW_LINKS),
    },
)
async def review_book(
    uid: UUID, body: ReviewIn, principal: PrincipalDep, use_case: ReviewBookDep
) -> JSONDocument:
    """One review per user per book (409 `review_exists`); change it with PATCH."""
    review = await use_case.execute(principal, uid, body.rating, body.review_text)
    return JSONDocument(
        review,
        status_code=201,  # a Review's fields are ReviewOut's
        headers={"Location": f"{API_PREFIX}/reviews/{review.uid}"},
    )


@router.post(
    "/{uid}/tags",
    response_model=BookOut,
    dependencies=[IDEMPOTENT],
    responses={
        **errors(401, 403, 404, 409, 422),
        **linked(
            200,
            "The book, tagged",
            **{
                "UntagBook": link(
                    "DELETE",
                    f"{BOOK}/tags/{{tag_uid}}",
                    "Take its first tag off",
                    uid=THIS_BOOK,
                    tag_uid="$response.body#/tags/0/uid",
                ),
                "GetBook": BOOK_LINKS["GetBook"],
            },
        ),
    },
)
async def tag_book(
    uid: UUID, body: TagNamesIn, principal: PrincipalDep, use_case: TagBookDep
) -> JSONDocument:
    """The owner or an admin tags a book; unknown names become tags; attaching twice is
    harmless."""
    names = [tag.name for tag in body.tags]
    return JSONDocument(book_document(await use_case.attach(principal, uid, names)))


@router.delete("/{uid}/tags/{tag_uid}", status_code=204, responses=errors(401, 403, 404, 422))
async def untag_book(
    uid: UUID, tag_uid: UUID, principal: PrincipalDep, use_case: TagBookDep
) -> Response:
    await use_case.detach(principal, uid, tag_uid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
