"""Changing and resetting passwords; the caller's profile; creating admins."""

from __future__ import annotations

import pytest

from application.accounts.profile import ProfileChanges
from domain.errors import (
    CurrentPasswordIncorrect,
    InvalidCredentials,
    InvalidLink,
    ServiceUnavailable,
    TokenRevoked,
    UsernameTaken,
    WeakPassword,
)
from domain.users import Role
from tests.unit.harness import PASSWORD, principal_of, signed_up

NEW = "a brand new passphrase"
NEWER = "an even newer passphrase"


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
    assert [m.to for m in await harness.sent("password_reset")] == ["bob@example.com"]
    # the jobs of the others are dropped, and with them the addresses they named
    assert [m["to"] for m in harness.mails("password_reset")] == ["bob@example.com"]


async def test_reset_requests_do_the_same_work_for_any_address(harness):
    """Whether an address has an account shows neither in the answer nor in the work
    done to give it: one job staged and committed, the same for every address."""
    await signed_up(harness)
    request = harness.container.request_password_reset()
    staged = []
    for email in ["ada@example.com", "nobody@example.com"]:
        commits, jobs = harness.database.commits, len(harness.mails())
        assert await request.execute(email) is None
        staged.append(
            (
                harness.database.commits - commits,
                len(harness.mails()) - jobs,
                {k: v for k, v in harness.mails("password_reset")[-1].items() if k != "to"},
            )
        )
    assert staged[0] == staged[1] == (1, 1, {"template": "password_reset", "account": True})


async def test_reset_link_works_once_and_ends_every_session(harness):
    await signed_up(harness, verified=False)
    pair, _ = await principal_of(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    token = await harness.last_link_token("password_reset")
    confirm = harness.container.confirm_password_reset()
    await confirm.execute(token, NEW)
    with pytest.raises(InvalidLink):
        await confirm.execute(token, "another new passphrase")
    with pytest.raises(TokenRevoked):
        await harness.container.authenticate().execute(pair.access_token)
    _, me = await principal_of(harness, password=NEW)
    assert me.user.is_verified


async def test_reset_link_expires_an_hour_after_it_is_sent(harness):
    await signed_up(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    harness.clock.advance(600)  # a mail held back: its link is signed when it goes out
    token = await harness.last_link_token("password_reset")
    harness.clock.advance(3599)
    await harness.container.confirm_password_reset().execute(token, NEW)
    await harness.container.request_password_reset().execute("ada@example.com")
    token = await harness.last_link_token("password_reset")
    harness.clock.advance(3601)
    with pytest.raises(InvalidLink):
        await harness.container.confirm_password_reset().execute(token, NEWER)


async def test_reset_link_dies_when_the_password_changes_another_way(harness):
    await signed_up(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    token = await harness.last_link_token("password_reset")
    _, me = await principal_of(harness)
    await harness.container.change_password().execute(me, PASSWORD, NEW)
    with pytest.raises(InvalidLink):
        await harness.container.confirm_password_reset().execute(token, "yet another passphrase")


async def test_weak_reset_password_is_refused_without_spending_the_link(harness):
    await signed_up(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    token = await harness.last_link_token("password_reset")
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


async def test_create_admin_makes_a_verified_admin(harness):
    appointed = await harness.container.create_admin().execute(
        "Root@Example.com", "an admin passphrase"
    )
    admin = appointed.user
    assert (admin.role, admin.is_verified, admin.username) == (Role.ADMIN, True, "root")
    assert appointed.before is None
    assert await harness.container.log_in().execute("root@example.com", "an admin passphrase")


async def test_create_admin_on_a_signed_up_email_takes_the_account_over(harness):
    """Somebody signed up with the address first: the account becomes the operator's
    admin with the operator's password, and whoever signed up loses it."""
    user = await signed_up(harness, verified=False)
    pair, _ = await principal_of(harness)
    await harness.container.request_password_reset().execute("ada@example.com")
    reset = await harness.last_link_token("password_reset")
    appointed = await harness.container.create_admin().execute(
        "ada@example.com", "the operator's passphrase"
    )
    assert appointed.user.uid == user.uid
    assert (appointed.before.role, appointed.before.is_verified) == (Role.USER, False)
    stored = harness.database.users[user.uid]
    assert (stored.role, stored.is_verified, stored.is_active) == (Role.ADMIN, True, True)
    with pytest.raises(TokenRevoked):
        await harness.container.authenticate().execute(pair.access_token)
    with pytest.raises(InvalidCredentials):
        await harness.container.log_in().execute("ada@example.com", PASSWORD)
    with pytest.raises(InvalidLink):
        await harness.container.confirm_password_reset().execute(reset, NEW)
    assert await harness.container.log_in().execute("ada@example.com", "the operator's passphrase")


async def test_create_admin_refuses_a_weak_password_for_an_existing_account_too(harness):
    await signed_up(harness)
    with pytest.raises(WeakPassword):
        await harness.container.create_admin().execute("ada@example.com", "password1")
    assert harness.database.users[next(iter(harness.database.users))].role is Role.USER


@pytest.fixture
def store_goes_down(harness, monkeypatch):
    """Call it to have the token store fail just after the next commit: the first call it
    refuses is the `forget` that follows every commit that changed an account."""

    async def down(user_ids) -> None:
        raise ServiceUnavailable("redis")

    return lambda: monkeypatch.setattr(harness.store, "forget", down)


@pytest.mark.parametrize(
    "change", ["password change", "password reset", "email verification", "admin takeover"]
)
async def test_sessions_from_before_end_even_when_the_store_fails_after_the_commit(
    harness, change, store_goes_down
):
    await signed_up(harness, verified=False)
    pair, me = await principal_of(harness)
    verify = await harness.last_link_token("verify_email")
    await harness.container.request_password_reset().execute("ada@example.com")
    reset = await harness.last_link_token("password_reset")
    container = harness.container
    act = {
        "password change": lambda: container.change_password().execute(me, PASSWORD, NEW),
        "password reset": lambda: container.confirm_password_reset().execute(reset, NEW),
        "email verification": lambda: container.verify_email().execute(verify),
        "admin takeover": lambda: container.create_admin().execute("ada@example.com", NEW),
    }[change]
    store_goes_down()
    with pytest.raises(ServiceUnavailable):  # the caller hears of the failure
        await act()
    with pytest.raises(TokenRevoked):  # but the old session is over all the same
        await harness.container.authenticate().execute(pair.access_token)
