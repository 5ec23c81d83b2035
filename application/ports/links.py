"""Where the links in account mails lead. The entrypoint that serves the pages says; the
use cases only sign the tokens that go into them."""

from __future__ import annotations

from typing import Protocol


class AccountLinks(Protocol):
    def verify_email(self, token: str) -> str:
        """The page that verifies the address a signed `token` names."""
        ...

    def confirm_password_reset(self, token: str) -> str:
        """The page that sets a new password with a signed `token`."""
        ...

    def request_password_reset(self) -> str:
        """The page that asks for a reset link (for someone whose address is taken)."""
        ...
