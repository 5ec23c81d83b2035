"""Who may write content: verified users and admins; owners or admins for a given book."""

from __future__ import annotations

from uuid import UUID

from domain.errors import AccountNotVerified, InsufficientPermissions
from domain.users import Role, User


def require_content_writer(user: User) -> None:
    if user.can_write_content:
        return
    if user.is_active and user.role is Role.USER and not user.is_verified:
        raise AccountNotVerified()
    raise InsufficientPermissions()


def require_owner_or_admin(user: User, owner_uid: UUID) -> None:
    require_content_writer(user)
    if not (user.is_admin or user.uid == owner_uid):
        raise InsufficientPermissions()
