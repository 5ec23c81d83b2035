"""Admins and operators looking after accounts, over memory adapters."""

from __future__ import annotations

import uuid

import pytest

from application.accounts.profile import ProfileChanges
from application.permissions import Operator
from application.ports.users import UserQuery
from application.users.administration import UserChanges
from domain.errors import (
    AccountDisabled,
    InsufficientPermissions,
    LastAdmin,
    TokenRevoked,
    UserNotFound,
)
from domain.users import Role
from tests.unit.harness import PASSWORD, person

OPERATOR = Operator("tests")


@pytest.fixture
async def people(harness):
    found = {}
    for name, role, verified in (
        ("admin", Role.ADMIN, True),
        ("ada", Role.USER, True),
        ("bob", Role.USER, False),
        ("guest", Role.GUEST, True),
    ):
        harness.clock.advance(1)
        found[name] = await person(harness, f"{name}@example.com", name, role, verified)
    return found


def emails(page) -> list[str]:
    return [user.email for user in page.items]


async def test_admins_and_operators_list_accounts_oldest_first(harness, people):
    list_users = harness.container.list_users()
    for actor in (people["admin"], OPERATOR):
        page = await list_users.execute(actor, UserQuery())
        assert emails(page) == [
            "admin@example.com",
            "ada@example.com",
            "bob@example.com",
            "guest@example.com",
        ]
        assert (page.total, page.limit, page.offset) == (4, 20, 0)
    for who in ("ada", "bob", "guest"):
        with pytest.raises(InsufficientPermissions):
            await list_users.execute(people[who], UserQuery())


async def test_list_filters_combine_and_page(harness, people):
    search = lambda **kw: harness.container.list_users().execute(  # noqa: E731
        OPERATOR, UserQuery(**kw)
    )
    assert emails(await search(role=Role.USER)) == ["ada@example.com", "bob@example.com"]
    assert emails(await search(role=Role.USER, is_verified=False)) == ["bob@example.com"]
    assert emails(await search(text="EXAMPLE.COM", is_verified=True, limit=2, offset=1)) == [
        "ada@example.com",
        "guest@example.com",
    ]
    assert (await search(text="EXAMPLE.COM", is_verified=True, limit=2, offset=1)).total == 3
    assert emails(await search(text="GUE")) == ["guest@example.com"]
    assert emails(await search(is_active=False)) == []


async def test_percent_and_underscore_in_q_are_literal(harness, people):
    await person(harness, "under_score@example.com", "x_y")
    await person(harness, "percent@example.com", "per100")
    search = lambda text: harness.container.list_users().execute(  # noqa: E731
        OPERATOR, UserQuery(text=text)
    )
    assert emails(await search("_")) == ["under_score@example.com"]
    assert emails(await search("%")) == []
    assert emails(await search("r_s")) == ["under_score@example.com"]


async def test_read_an_account_as_admin_or_as_oneself(harness, people):
    get_user = harness.container.get_user()
    ada = people["ada"].user
    for actor in (people["admin"], people["ada"], OPERATOR):
        assert (await get_user.execute(actor, ada.uid)).email == "ada@example.com"
    assert (await get_user.execute(people["guest"], people["guest"].user.uid)).role is Role.GUEST
    with pytest.raises(InsufficientPermissions):
        await get_user.execute(people["bob"], ada.uid)
    with pytest.raises(InsufficientPermissions):  # no existence oracle for non-admins
        await get_user.execute(people["bob"], uuid.uuid4())
    with pytest.raises(UserNotFound):
        await get_user.execute(people["admin"], uuid.uuid4())


async def test_change_role_and_active_flag(harness, people):
    change = harness.container.change_user()
    ada = people["ada"].user
    harness.clock.advance(60)
    changed = await change.execute(people["admin"], ada.uid, UserChanges(role=Role.GUEST))
    assert (changed.role, changed.is_active, changed.updated_at) == (
        Role.GUEST,
        True,
        harness.clock.now(),
    )
    assert harness.database.users[ada.uid].role is Role.GUEST
    changed = await change.execute(OPERATOR, ada.uid, UserChanges(role=Role.ADMIN, is_active=False))
    assert (changed.role, changed.is_active) == (Role.ADMIN, False)
    unchanged = await change.execute(people["admin"], ada.uid, UserChanges())
    assert unchanged.updated_at == changed.updated_at


async def test_only_admins_change_accounts(harness, people):
    for who in ("ada", "guest"):
        with pytest.raises(InsufficientPermissions):
            await harness.container.change_user().execute(
                people[who], people[who].user.uid, UserChanges(role=Role.ADMIN)
            )
    with pytest.raises(UserNotFound):
        await harness.container.change_user().execute(
            people["admin"], uuid.uuid4(), UserChanges(is_active=False)
        )
    with pytest.raises(InsufficientPermissions):  # 403 before 404 for non-admins
        await harness.container.change_user().execute(
            people["ada"], uuid.uuid4(), UserChanges(is_active=False)
        )


@pytest.mark.parametrize(
    "changes",
    [UserChanges(role=Role.USER), UserChanges(role=Role.GUEST), UserChanges(is_active=False)],
)
async def test_the_last_active_admin_stays(harness, people, changes):
    admin = people["admin"].user
    for actor in (people["admin"], OPERATOR):
        with pytest.raises(LastAdmin):
            await harness.container.change_user().execute(actor, admin.uid, changes)
    assert harness.database.users[admin.uid].is_admin
    # With a second active admin, either may step down (even themself).
    await harness.container.change_user().execute(
        OPERATOR, people["ada"].user.uid, UserChanges(role=Role.ADMIN)
    )
    await harness.container.change_user().execute(people["admin"], admin.uid, changes)
    assert not harness.database.users[admin.uid].is_admin
    with pytest.raises(LastAdmin):
        await harness.container.change_user().execute(OPERATOR, people["ada"].user.uid, changes)


async def test_an_inactive_admin_does_not_count(harness, people):
    ada = people["ada"].user
    change = harness.container.change_user()
    await change.execute(OPERATOR, ada.uid, UserChanges(role=Role.ADMIN, is_active=False))
    with pytest.raises(LastAdmin):
        await change.execute(OPERATOR, people["admin"].user.uid, UserChanges(role=Role.USER))
    await change.execute(OPERATOR, ada.uid, UserChanges(is_active=True))
    await change.execute(OPERATOR, people["admin"].user.uid, UserChanges(role=Role.USER))


async def login(harness, email):
    return await harness.container.log_in().execute(email, PASSWORD)


async def test_changes_count_from_the_next_request(harness, people):
    """Authenticate reads the account on every request: a demoted admin's token no
    longer carries admin rights, and a deactivated account's tokens stop working."""
    c = harness.container
    await c.change_user().execute(OPERATOR, people["ada"].user.uid, UserChanges(role=Role.ADMIN))
    pair = await login(harness, "ada@example.com")
    principal = await c.authenticate().execute(pair.access_token)
    await c.list_users().execute(principal, UserQuery())
    await c.change_user().execute(
        people["admin"], people["ada"].user.uid, UserChanges(role=Role.USER)
    )
    principal = await c.authenticate().execute(pair.access_token)
    with pytest.raises(InsufficientPermissions):
        await c.list_users().execute(principal, UserQuery())


async def test_deactivating_ends_every_session_and_blocks_login(harness, people):
    c = harness.container
    pairs = [await login(harness, "ada@example.com") for _ in range(2)]
    other = await login(harness, "guest@example.com")
    await c.change_user().execute(
        people["admin"], people["ada"].user.uid, UserChanges(is_active=False)
    )
    for pair in pairs:
        with pytest.raises(TokenRevoked):
            await c.authenticate().execute(pair.access_token)
        with pytest.raises(TokenRevoked):
            await c.refresh_session().execute(pair.refresh_token)
        assert not await harness.store.is_live(c.token_codec().decode(pair.access_token).session_id)
    await c.authenticate().execute(other.access_token)
    with pytest.raises(AccountDisabled):
        await login(harness, "ada@example.com")
    await c.change_user().execute(OPERATOR, people["ada"].user.uid, UserChanges(is_active=True))
    fresh = await login(harness, "ada@example.com")
    await c.authenticate().execute(fresh.access_token)
    with pytest.raises(TokenRevoked):  # old sessions stay ended
        await c.authenticate().execute(pairs[0].access_token)


async def test_activation_ends_sessions_a_failed_revocation_left(harness, people):
    """If revoking failed when the account was switched off, switching it back on must
    not bring its old tokens back to life."""
    c = harness.container
    pair = await login(harness, "ada@example.com")
    harness.database.users[people["ada"].user.uid].is_active = False  # as if revoke failed
    await c.change_user().execute(OPERATOR, people["ada"].user.uid, UserChanges(is_active=True))
    with pytest.raises(TokenRevoked):
        await c.authenticate().execute(pair.access_token)
    again = await login(harness, "ada@example.com")
    await c.change_user().execute(OPERATOR, people["ada"].user.uid, UserChanges(is_active=True))
    await c.authenticate().execute(again.access_token)  # activating an active account: no-op


async def test_find_by_email_for_operators(harness, people):
    find = harness.container.find_user_by_email()
    assert (await find.execute(OPERATOR, " ADA@example.com ")).username == "ada"
    with pytest.raises(UserNotFound):
        await find.execute(OPERATOR, "nobody@example.com")
    with pytest.raises(InsufficientPermissions):
        await find.execute(people["ada"], "ada@example.com")


async def test_guests_manage_their_own_account_only(harness, people):
    c = harness.container
    guest = people["guest"]
    renamed = await c.update_profile().execute(guest, ProfileChanges(first_name="Gus"))
    assert renamed.first_name == "Gus"
    assert (await c.get_user().execute(guest, guest.user.uid)).first_name == "Gus"
    with pytest.raises(InsufficientPermissions):
        await c.get_user().execute(guest, people["ada"].user.uid)
