"""/api/v1/tags: the tag list, curated by admins."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from domain.tags import Tag
from entrypoints.http.book_schemas import PageOut, TagIn, TagOut
from entrypoints.http.conditional import IfMatch
from entrypoints.http.deps import PrincipalDep
from entrypoints.http.documents import JSONDocument, as_is
from entrypoints.http.idempotency import IDEMPOTENT, IdempotentRoute
from entrypoints.http.paging import PagingQuery, paged
from entrypoints.http.responses import NEXT_PAGE, errors, link, linked
from entrypoints.http.use_cases import ManageTagsDep
from entrypoints.links import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/tags", tags=["tags"], route_class=IdempotentRoute)
TAG = f"{API_PREFIX}/tags/{{uid}}"
TAG_LINKS = {
    "RenameTag": link("PATCH", TAG, "Rename this tag", uid="$response.body#/uid"),
    "DeleteTag": link("DELETE", TAG, "Delete this tag", uid="$response.body#/uid"),
    "BooksWithTag": link(
        "GET", f"{API_PREFIX}/books", "The books with this tag", tag="$response.body#/name"
    ),
}


def tag_out(tag: Tag) -> TagOut:
    return TagOut.model_validate(tag)


@router.get("", response_model=PageOut[TagOut], responses={**errors(422), **NEXT_PAGE})
async def list_tags(paging: PagingQuery, request: Request, use_case: ManageTagsDep) -> JSONDocument:
    """By name, case-insensitively."""
    return paged(request, await use_case.list(paging.request()), as_is)


@router.post(
    "",
    status_code=201,
    response_model=TagOut,
    dependencies=[IDEMPOTENT],
    responses={**errors(401, 403, 409, 422), **linked(201, "The tag made", **TAG_LINKS)},
)
async def create_tag(
    body: TagIn, principal: PrincipalDep, use_case: ManageTagsDep, response: Response
) -> TagOut:
    """Admins only. A name is stored NFKC-normalised (fullwidth letters are plain ones) and
    is unique without regard to case (409 `tag_exists`); invisible characters (zero-width
    space or joiner, soft hyphen, bidi controls, BOM) are refused (422)."""
    tag = await use_case.create(principal, body.name)
    response.headers["Location"] = f"{router.prefix}/{tag.uid}"
    return tag_out(tag)


@router.get("/{uid}", response_model=TagOut, responses=errors(404, 422))
async def get_tag(uid: UUID, use_case: ManageTagsDep) -> JSONDocument:
    """One tag; its `ETag` is what `If-Match` names to rename or delete it."""
    return JSONDocument(await use_case.get(uid))  # a Tag's fields are TagOut's


@router.patch("/{uid}", response_model=TagOut, responses=errors(401, 403, 404, 409, 412, 422, 428))
async def rename_tag(
    uid: UUID, body: TagIn, principal: PrincipalDep, use_case: ManageTagsDep, expected: IfMatch
) -> TagOut:
    return tag_out(await use_case.rename(principal, uid, body.name, expected))


@router.delete("/{uid}", status_code=204, responses=errors(401, 403, 404, 412, 422, 428))
async def delete_tag(
    uid: UUID, principal: PrincipalDep, use_case: ManageTagsDep, expected: IfMatch
) -> Response:
    """Admins only; the tag comes off every book."""
    await use_case.delete(principal, uid, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
