"""The mails whose content depends on an account: verification and password reset.

Their jobs are staged with no content (`stage_account_mail`); the content is made when
the mail is sent, from the account that has the address then. So the request that asks
for one does the same work whether or not the address belongs to anybody, and a link
is signed when it is sent: a mail held back by a slow SMTP server still carries a link
with its whole lifetime ahead of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from application.accounts.mail import PASSWORD_RESET, VERIFY_EMAIL
from application.accounts.policy import AuthPolicy
from application.ports.links import AccountLinks
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import LinkPurpose, LinkSigner
from domain.users import User


def password_fingerprint(password_hash: str) -> str:
    """Ties a reset link to the password it replaces: a changed password voids it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


class AccountMails:
    """`AccountMailContent`: a verification mail goes to an active account whose address
    is not verified yet, a reset mail to any active account; nobody else gets either."""

    def __init__(
        self, uow: UnitOfWorkFactory, signer: LinkSigner, policy: AuthPolicy, links: AccountLinks
    ) -> None:
        self._uow, self._signer, self._policy, self._links = uow, signer, policy, links

    async def context(self, template: str, to: str) -> Mapping[str, Any] | None:
        async with self._uow() as uow:
            user = await uow.users.get_by_email(to)
        if user is None or not user.is_active:
            return None
        if template == VERIFY_EMAIL:
            return None if user.is_verified else self._verification(user)
        if template == PASSWORD_RESET:
            return self._reset(user)
        raise ValueError(f"{template!r} is not a mail about an account")

    def _verification(self, user: User) -> dict[str, Any]:
        token = self._signer.sign(
            LinkPurpose.VERIFY_EMAIL, {"uid": str(user.uid), "email": user.email}
        )
        return {
            "name": user.first_name,
            "link": self._links.verify_email(token),
            "hours": self._policy.verify_link_ttl_seconds // 3600,
        }

    def _reset(self, user: User) -> dict[str, Any]:
        token = self._signer.sign(
            LinkPurpose.RESET_PASSWORD,
            {"uid": str(user.uid), "fp": password_fingerprint(user.password_hash)},
        )
        return {
            "name": user.first_name,
            "link": self._links.confirm_password_reset(token),
            "minutes": self._policy.reset_link_ttl_seconds // 60,
        }
