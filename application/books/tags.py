"""Tags: admins curate the list; owners and admins put tags on books."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from application.accounts.sessions import Principal
from application.paging import Cursors
from application.permissions import require_admin, require_owner_or_admin
from application.ports.books import BookView
from application.ports.clock import Clock
from application.ports.pages import Page, PageRequest
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.preconditions import Precondition
from domain.errors import BookNotFound, RuleViolation, TagNotFound
from domain.tags import Tag, clean_tag_name, tag_key

MAX_TAGS_PER_REQUEST = 20


async def ensure_tags(uow: UnitOfWork, names: Sequence[str], clock: Clock) -> list[Tag]:
    """The tags named (unknown names become tags), once each, in the order first named."""
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(tag_key(name), clean_tag_name(name))
    if len(unique) > MAX_TAGS_PER_REQUEST:
        raise RuleViolation("tags", f"At most {MAX_TAGS_PER_REQUEST} tags at a time.")
    now = clock.now()
    fresh = [Tag(uuid.uuid4(), name, now) for name in unique.values()]
    return await uow.tags.ensure(list(unique.values()), fresh)


class ManageTags:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        cursors: Cursors,
        reads: UnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow  # units that only read: they may lag a little
        self._clock = clock
        self._cursors = cursors

    async def create(self, principal: Principal, name: str) -> Tag:
        require_admin(principal)
        tag = Tag(uuid.uuid4(), clean_tag_name(name), self._clock.now())
        async with self._uow() as uow:
            await uow.tags.add(tag)
            await uow.commit()
        return tag

    async def get(self, uid: uuid.UUID) -> Tag:
        async with self._reads() as uow:
            tag = await uow.tags.get(uid)
        if tag is None:
            raise TagNotFound()
        return tag

    async def rename(
        self,
        principal: Principal,
        uid: uuid.UUID,
        name: str,
        precondition: Precondition[Tag] | None = None,
    ) -> Tag:
        require_admin(principal)
        async with self._uow() as uow:
            tag = await self._held(uow, uid, precondition)
            tag.rename(name)
            await uow.tags.update(tag)
            await uow.commit()
        return tag

    async def delete(
        self, principal: Principal, uid: uuid.UUID, precondition: Precondition[Tag] | None = None
    ) -> None:
        require_admin(principal)
        async with self._uow() as uow:
            tag = await self._held(uow, uid, precondition)
            await uow.tags.delete(tag)
            await uow.commit()

    @staticmethod
    async def _held(uow: UnitOfWork, uid: uuid.UUID, precondition: Precondition[Tag] | None) -> Tag:
        """The tag; locked, and held to the caller's condition, when there is one."""
        tag = await (uow.tags.get(uid) if precondition is None else uow.tags.lock(uid))
        if tag is None:
            raise TagNotFound()
        if precondition is not None:
            precondition(tag)
        return tag

    async def list(self, request: PageRequest) -> Page[Tag]:
        _, after = self._cursors.resume("tags", request, {})
        async with self._reads() as uow:
            page = await uow.tags.page(request.limit, request.offset, after)
        return self._cursors.continued("tags", {}, page)


class TagBook:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def attach(
        self, principal: Principal, book_uid: uuid.UUID, names: Sequence[str]
    ) -> BookView:
        async with self._uow() as uow:
            # The book's lock first: the links copy its rating, which no review may move
            # between the copy and the commit.
            locked = await uow.books.lock(book_uid)
            book = await uow.books.get(book_uid) if locked else None
            if book is None:
                raise BookNotFound()
            require_owner_or_admin(principal.user, book.owner_uid)
            tags = await ensure_tags(uow, names, self._clock)
            await uow.tags.attach(book_uid, [tag.uid for tag in tags])
            await uow.commit()
            detail = await uow.books.detail(book_uid)
        assert detail is not None
        return detail.view

    async def detach(self, principal: Principal, book_uid: uuid.UUID, tag_uid: uuid.UUID) -> None:
        async with self._uow() as uow:
            book = await uow.books.get(book_uid)
            if book is None:
                raise BookNotFound()
            require_owner_or_admin(principal.user, book.owner_uid)
            if not await uow.tags.detach(book_uid, tag_uid):
                raise TagNotFound("This book does not have this tag.")
            await uow.commit()
