"""/api/v1/reviews: single reviews, and every review for admins."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from entrypoints.http.book_schemas import PageOut, ReviewOut, ReviewPatch
from entrypoints.http.conditional import IfMatch, last_modified
from entrypoints.http.deps import PrincipalDep
from entrypoints.http.documents import JSONDocument, as_is
from entrypoints.http.paging import PagingQuery, paged
from entrypoints.http.responses import NEXT_PAGE, errors
from entrypoints.http.use_cases import DeleteReviewDep, EditReviewDep, GetReviewDep, ListReviewsDep
from entrypoints.links import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/reviews", tags=["reviews"])


@router.get("", response_model=PageOut[ReviewOut], responses={**errors(401, 403, 422), **NEXT_PAGE})
async def all_reviews(
    paging: PagingQuery, principal: PrincipalDep, request: Request, use_case: ListReviewsDep
) -> JSONDocument:
    """Admins only; newest first."""
    return paged(request, await use_case.all(principal, paging.request()), as_is)


@router.get("/{uid}", response_model=ReviewOut, responses=errors(404, 422))
async def get_review(uid: UUID, use_case: GetReviewDep) -> JSONDocument:
    review = await use_case.execute(uid)
    return JSONDocument(review, headers=last_modified(review.updated_at))  # fields: ReviewOut's


@router.patch("/{uid}", response_model=ReviewOut, responses=errors(401, 403, 404, 412, 422, 428))
async def edit_review(
    uid: UUID,
    body: ReviewPatch,
    principal: PrincipalDep,
    use_case: EditReviewDep,
    expected: IfMatch,
) -> JSONDocument:
    """Its author only; the fields sent change."""
    review = await use_case.execute(principal, uid, body.rating, body.review_text, expected)
    return JSONDocument(review)


@router.delete("/{uid}", status_code=204, responses=errors(401, 403, 404, 412, 422, 428))
async def delete_review(
    uid: UUID, principal: PrincipalDep, use_case: DeleteReviewDep, expected: IfMatch
) -> Response:
    """Its author or an admin."""
    await use_case.execute(principal, uid, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
