"""/api/v1/users: people and what they have written."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from application.users.administration import UserChanges
from entrypoints.http.book_schemas import BookOut, PageOut, ReviewOut
from entrypoints.http.deps import PrincipalDep
from entrypoints.http.documents import JSONDocument, as_is, user_document
from entrypoints.http.paging import PagingQuery, paged
from entrypoints.http.responses import NEXT_PAGE, errors
from entrypoints.http.routers.books import BookListQuery, books_page
from entrypoints.http.schemas import UserOut
from entrypoints.http.use_cases import (
    ChangeUserDep,
    GetUserDep,
    ListReviewsDep,
    ListUserBooksDep,
    ListUsersDep,
)
from entrypoints.http.user_schemas import UserListQuery, UserPatch
from entrypoints.links import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


@router.get(
    "/{uid}/books", response_model=PageOut[BookOut], responses={**errors(404, 422), **NEXT_PAGE}
)
async def user_books(
    uid: UUID, params: BookListQuery, request: Request, use_case: ListUserBooksDep
) -> JSONDocument:
    """Anyone may list a user's books (the `owner_uid` filter is fixed to that user)."""
    page = await use_case.execute(uid, params.query(), params.request())
    return books_page(request, page)


@router.get(
    "/{uid}/reviews", response_model=PageOut[ReviewOut], responses={**errors(404, 422), **NEXT_PAGE}
)
async def user_reviews(
    uid: UUID, paging: PagingQuery, request: Request, use_case: ListReviewsDep
) -> JSONDocument:
    """Anyone may list a user's reviews, newest first."""
    return paged(request, await use_case.for_user(uid, paging.request()), as_is)


@router.get("", response_model=PageOut[UserOut], responses={**errors(401, 403, 422), **NEXT_PAGE})
async def list_users(
    params: UserListQuery, principal: PrincipalDep, request: Request, use_case: ListUsersDep
) -> JSONDocument:
    """Admins only. Filters `role`, `is_verified`, `is_active` and `q` combine with AND;
    the oldest account comes first (ties by uid)."""
    page = await use_case.execute(principal, params.query(), params.request())
    return paged(request, page, user_document)


@router.get("/{uid}", response_model=UserOut, responses=errors(401, 403, 404, 422))
async def get_user(uid: UUID, principal: PrincipalDep, use_case: GetUserDep) -> UserOut:
    """Admins read any account; other users only their own (403 for anyone else's)."""
    return UserOut.model_validate(await use_case.execute(principal, uid))


@router.patch("/{uid}", response_model=UserOut, responses=errors(401, 403, 404, 409, 422))
async def change_user(
    uid: UUID, body: UserPatch, principal: PrincipalDep, use_case: ChangeUserDep
) -> UserOut:
    """Admins only. The new role or active flag counts from the account's next request;
    deactivating also ends every session. 409 `last_admin` when no active admin would be
    left."""
    changes = UserChanges(**body.model_dump(exclude_unset=True))
    return UserOut.model_validate(await use_case.execute(principal, uid, changes))
