from __future__ import annotations

import pytest

from application.accounts.registration import SignUpCommand
from tests.unit.harness import Harness, build_harness

PASSWORD = "correct horse battery"


@pytest.fixture
def harness() -> Harness:
    return build_harness()


def signup_command(email: str = "Ada@Example.com", username: str = "ada", **fields: str):
    values = {"first_name": "Ada", "last_name": "Lovelace", "password": PASSWORD, **fields}
    return SignUpCommand(email=email, username=username, **values)


async def signed_up(
    harness: Harness, email: str = "ada@example.com", username: str = "ada", verified: bool = True
):
    """Sign up (and verify) through the use cases; returns the stored user."""
    c = harness.container
    await c.sign_up().execute(signup_command(email, username))
    if verified:
        await c.verify_email().execute(await harness.last_link_token("verify_email"))
    return next(u for u in harness.database.users.values() if u.email == email.lower())
