"""Who asks: a user behind an access token, or an operator at the server's shell.

The `bookly` command line acts as the system itself: it holds no token and is no user,
so it is an `Operator`, allowed whatever an admin is. Use cases take an `Actor` where
both may call them, and decide here who may do what.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.accounts.sessions import Principal
from domain.errors import InsufficientPermissions


@dataclass(frozen=True, slots=True)
class Operator:
    """Someone with shell access to the deployment (and so to its database and secrets)."""

    name: str = "operator"


Actor = Principal | Operator


def require_admin(actor: Actor) -> None:
    """Admins (as the account is now, not as an old token says) and operators."""
    if isinstance(actor, Operator) or actor.user.is_admin:
        return
    raise InsufficientPermissions()


def require_admin_or_self(actor: Actor, user_uid: UUID) -> None:
    if isinstance(actor, Operator) or actor.user.is_admin or actor.user.uid == user_uid:
        return
    raise InsufficientPermissions()
