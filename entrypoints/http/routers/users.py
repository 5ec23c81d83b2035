"""/api/v1/users: people and what they have written."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from entrypoints.http.book_schemas import BookOut, PageOut
from entrypoints.http.deps import ContainerDep
from entrypoints.http.responses import errors
from entrypoints.http.routers import API_PREFIX
from entrypoints.http.routers.books import QueryDep, page_out

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


@router.get("/{uid}/books", response_model=PageOut[BookOut], responses=errors(404, 422))
async def user_books(uid: UUID, query: QueryDep, container: ContainerDep) -> PageOut[BookOut]:
    """Anyone may list a user's books (the `owner_uid` filter is fixed to that user)."""
    return page_out(await container.list_user_books().execute(uid, query))
