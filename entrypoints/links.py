"""The HTTP API's addresses that leave the process: its version prefix, and the pages the
account mails link to, under the service's public URL.

Here, not in `entrypoints.http`, because the composition root gives the links to the use
cases for every entrypoint (the worker sends the mails; the command line drives no HTTP).
`http/routers/mail_links.py` serves these paths; the API tests follow the links the mails
carry.
"""

from __future__ import annotations

from dataclasses import dataclass

API_PREFIX = "/api/v1"
VERIFY_EMAIL = f"{API_PREFIX}/auth/verify/{{token}}"
CONFIRM_PASSWORD_RESET = f"{API_PREFIX}/auth/password-reset-confirm/{{token}}"
REQUEST_PASSWORD_RESET = f"{API_PREFIX}/auth/password-reset-request"


@dataclass(frozen=True, slots=True)
class HttpAccountLinks:
    """`AccountLinks` for mails read in a browser or by a client of the API."""

    public_url: str

    def _at(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def verify_email(self, token: str) -> str:
        return self._at(VERIFY_EMAIL.format(token=token))

    def confirm_password_reset(self, token: str) -> str:
        return self._at(CONFIRM_PASSWORD_RESET.format(token=token))

    def request_password_reset(self) -> str:
        return self._at(REQUEST_PASSWORD_RESET)
