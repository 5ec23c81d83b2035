"""Who may do what: every permission rule of the use cases, in one place.

A caller is an `Actor`: a user behind an access token (`Principal`), or an `Operator` at
the server's shell. The `bookly` command line acts as the system itself: it holds no token
and is no user, so it is an `Operator`, allowed whatever an admin is. The rules read the
account as it is now, not as an old token says.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.accounts.sessions import Principal
from domain.errors import AccountNotVerified, InsufficientPermissions
from domain.users import Role, User


@dataclass(frozen=True, slots=True)
class Operator:
    """Someone with shell access to the deployment (and so to its database and secrets)."""

    name: str = "operator"


Actor = Principal | Operator


def require_admin(actor: Actor) -> None:
    """Admins and operators."""
    if isinstance(actor, Operator) or actor.user.is_admin:
        return
    raise InsufficientPermissions()


def require_admin_or_self(actor: Actor, user_uid: UUID) -> None:
    if isinstance(actor, Operator) or actor.user.is_admin or actor.user.uid == user_uid:
        return
    raise InsufficientPermissions()


def require_content_writer(user: User) -> None:
    """Verified users and admins write books, reviews and tags on books."""
    if user.can_write_content:
        return
    if user.is_active and user.role is Role.USER and not user.is_verified:
        raise AccountNotVerified()
    raise InsufficientPermissions()


def require_owner_or_admin(user: User, owner_uid: UUID) -> None:
    """A content writer who owns the thing (a book, a review), or an admin."""
    require_content_writer(user)
    if not (user.is_admin or user.uid == owner_uid):
        raise InsufficientPermissions()


def require_author(user: User, author_uid: UUID) -> None:
    """Only its author changes a review: admins may remove one, never put words in it."""
    require_content_writer(user)
    if user.uid != author_uid:
        raise InsufficientPermissions()
