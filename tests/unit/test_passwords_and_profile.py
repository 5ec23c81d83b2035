"""Changing and resetting passwords; the caller's profile; creating admins."""

from __future__ import annotations

import pytest

from application.accounts.profile import ProfileChanges
from domain.errors import (
    CurrentPasswordIncorrect,
    InvalidCredentials,
    InvalidLink,
    TokenRevoked,
    UsernameTaken,
    WeakPassword,
)
from domain.users import Role
from tests.unit.conftest import PASSWORD, signed_up

NEW = "a brand new passphrase"


async def principal_of(harness, email="ada@example.com", password=PASSWORD):
    pair = await harness.container.log_in().execute(email, password)
    return pair, await harness.container.authenticate().execute(pair.access_token)


async def test_password_change_needs_the_current_password_and_ends_sessions(harness):
    await signed_up(harness)
    pair, me = await principal_of(harness)
    change = harness.container.change_password()
    with pytest.raises(CurrentPasswordIncorrect):
        await change.execute(me, "wrong password", NEW)
    with pytest.raises(WeakPassword):
        await change.execute(me, PASSWORD, "password")
    await change.execute(me, PASSWORD, NEW)
    with pytest.raises(TokenRevoked):
        await harness.container.authenticate().execute(pair.access_token)
    with pytest.raises(InvalidCredentials):
        await harness.container.log_in().execute("ada@example.com", PASSWORD)
    assert await harness.container.log_in().execute("ada@example.com", NEW)


async def test_reset_request_mails_only_active_accounts(harness):
    user = await signed_up(harness)
    await signed_up(harness, "bob@example.com", "bob")
    harness.database.users[user.uid].is_active = False
    request = harness.container.request_password_reset()
    for email in ["ada@example.com", "BOB@example.com", "nobody@example.com"]:
        await request.execute(email)
    assert [m["to"] for m in harness.mails("password_reset")] == ["bob@example.com"]


async def test_reset_link_works_once_and_ends_every_session(harness):
    await signed_up(harness, verified=False)
    pair, _ = await principal_of(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    token = harness.last_link_token("password_reset")
    confirm = harness.container.confirm_password_reset()
    await confirm.execute(token, NEW)
    with pytest.raises(InvalidLink):
        await confirm.execute(token, "another new passphrase")
    with pytest.raises(TokenRevoked):
        await harness.container.authenticate().execute(pair.access_token)
    _, me = await principal_of(harness, password=NEW)
    assert me.user.is_verified


async def test_reset_link_expires_after_an_hour(harness):
    await signed_up(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    harness.clock.advance(3601)
    with pytest.raises(InvalidLink):
        await harness.container.confirm_password_reset().execute(
            harness.last_link_token("password_reset"), NEW)


async def test_reset_link_dies_when_the_password_changes_another_way(harness):
    await signed_up(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    token = harness.last_link_token("password_reset")
    _, me = await principal_of(harness)
    await harness.container.change_password().execute(me, PASSWORD, NEW)
    with pytest.raises(InvalidLink):
        await harness.container.confirm_password_reset().execute(token, "yet another passphrase")


async def test_weak_reset_password_is_refused_without_spending_the_link(harness):
    await signed_up(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    token = harness.last_link_token("password_reset")
    confirm = harness.container.confirm_password_reset()
    with pytest.raises(WeakPassword):
        await confirm.execute(token, "password")
    await confirm.execute(token, NEW)


async def test_profile_update_changes_only_what_is_sent(harness):
    await signed_up(harness)
    await signed_up(harness, "bob@example.com", "bob")
    _, me = await principal_of(harness)
    update = harness.container.update_profile()
    harness.clock.advance(5)
    user = await update.execute(me, ProfileChanges(first_name="  Augusta "))
    assert (user.first_name, user.last_name, user.username) == ("Augusta", "Lovelace", "ada")
    assert user.updated_at > user.created_at
    assert (await update.execute(me, ProfileChanges(username="ADA"))).username == "ADA"
    with pytest.raises(UsernameTaken):
        await update.execute(me, ProfileChanges(username="Bob"))


async def test_create_admin_makes_a_verified_admin_or_promotes(harness):
    create = harness.container.create_admin()
    admin = await create.execute("Root@Example.com", "an admin passphrase")
    assert (admin.role, admin.is_verified, admin.username) == (Role.ADMIN, True, "root")
    user = await signed_up(harness, verified=False)
    promoted = await create.execute("ada@example.com", "ignored for existing")
    assert promoted.uid == user.uid and promoted.role is Role.ADMIN and promoted.is_verified
    assert await harness.container.log_in().execute("ada@example.com", PASSWORD)
