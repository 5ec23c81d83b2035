"""Signing up, verifying the email, resending the link."""

from __future__ import annotations

import pytest

from domain.errors import InvalidLink, RuleViolation, UsernameTaken, WeakPassword
from domain.users import Role
from tests.unit.harness import signed_up, signup_command


async def test_signup_stores_a_normalised_unverified_user_and_mails_a_link(harness):
    await harness.container.sign_up().execute(signup_command(email="  Ada@EXAMPLE.com "))
    (user,) = harness.database.users.values()
    assert (user.email, user.role, user.is_verified, user.is_active) == (
        "ada@example.com",
        Role.USER,
        False,
        True,
    )
    assert user.password_hash != "correct horse battery"
    (mail,) = await harness.sent("verify_email")
    assert mail.to == "ada@example.com"
    assert "http://127.0.0.1:8000/api/v1/auth/verify/" in mail.text


async def test_signup_with_a_registered_email_changes_nothing_and_mails_a_notice(harness):
    await signed_up(harness)
    before = dict(harness.database.users)
    result = await harness.container.sign_up().execute(signup_command("ADA@example.com", "other"))
    assert result is None
    assert harness.database.users == before
    assert [m["to"] for m in harness.mails("account_exists")] == ["ada@example.com"]
    assert len(harness.mails("verify_email")) == 1


async def test_signup_hashes_the_password_even_for_a_registered_email(harness):
    await signed_up(harness)
    calls = []
    original = harness.hasher.hash

    async def counting(password):
        calls.append(password)
        return await original(password)

    harness.hasher.hash = counting
    await harness.container.sign_up().execute(signup_command("ada@example.com", "other"))
    assert len(calls) == 1


async def test_signup_refuses_a_taken_username_in_any_case(harness):
    await signed_up(harness)
    with pytest.raises(UsernameTaken):
        await harness.container.sign_up().execute(signup_command("bob@example.com", "ADA"))


@pytest.mark.parametrize("password", ["short", "x" * 129, "password1"])
async def test_signup_refuses_bad_passwords(harness, password):
    with pytest.raises(RuleViolation) as caught:
        await harness.container.sign_up().execute(signup_command(password=password))
    assert caught.value.field == "password"
    assert harness.database.users == {}
    if password == "password1":
        assert isinstance(caught.value, WeakPassword)


async def test_a_long_password_is_kept_whole(harness):
    password = "  spaces at both ends and a long tail " + "é" * 80
    await harness.container.sign_up().execute(signup_command(password=password))
    (user,) = harness.database.users.values()
    assert await harness.hasher.verify(user.password_hash, password)


async def test_verification_link_verifies_once(harness):
    await harness.container.sign_up().execute(signup_command())
    token = await harness.last_link_token("verify_email")
    await harness.container.verify_email().execute(token)
    assert next(iter(harness.database.users.values())).is_verified
    with pytest.raises(InvalidLink):
        await harness.container.verify_email().execute(token)


async def test_verification_link_expires_after_48_hours(harness):
    await harness.container.sign_up().execute(signup_command())
    token = await harness.last_link_token("verify_email")
    harness.clock.advance(48 * 3600 + 1)
    with pytest.raises(InvalidLink):
        await harness.container.verify_email().execute(token)


async def test_a_reset_link_does_not_verify(harness):
    await signed_up(harness, verified=False)
    await harness.container.request_password_reset().execute("ada@example.com")
    with pytest.raises(InvalidLink):
        await harness.container.verify_email().execute(
            await harness.last_link_token("password_reset")
        )


async def test_resend_mails_only_unverified_active_accounts(harness):
    await signed_up(harness, verified=False)
    await signed_up(harness, "bob@example.com", "bob", verified=True)
    resend = harness.container.resend_verification()
    sent_at_signup = len(await harness.sent("verify_email"))
    for email in ["ADA@example.com", "bob@example.com", "nobody@example.com"]:
        await resend.execute(email)
    assert [m.to for m in (await harness.sent("verify_email"))[sent_at_signup:]] == [
        "ada@example.com"
    ]
