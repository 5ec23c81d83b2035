"""Logging in, refreshing with rotation, logging out."""

from __future__ import annotations

import pytest

from domain.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidToken,
    RefreshTokenRequired,
    TokenRevoked,
    TooManyRequests,
)
from tests.unit.harness import PASSWORD, signed_up


async def login(harness, email="ada@example.com", password=PASSWORD):
    return await harness.container.log_in().execute(email, password)


async def test_login_gives_a_pair_that_authenticates(harness):
    user = await signed_up(harness)
    pair = await login(harness, "ADA@Example.com")
    assert pair.expires_in == 900
    principal = await harness.container.authenticate().execute(pair.access_token)
    assert principal.user.uid == user.uid


async def test_unknown_email_and_wrong_password_fail_alike(harness):
    await signed_up(harness)
    with pytest.raises(InvalidCredentials) as wrong:
        await login(harness, password="not the password")
    with pytest.raises(InvalidCredentials) as unknown:
        await login(harness, email="nobody@example.com")
    assert (wrong.value.error_code, wrong.value.detail) == (
        unknown.value.error_code,
        unknown.value.detail,
    )
    assert harness.hasher.dummy_checks == 1


async def test_sixth_attempt_in_the_window_is_refused_even_with_the_right_password(harness):
    await signed_up(harness)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await login(harness, password="wrong password")
    with pytest.raises(TooManyRequests) as caught:
        await login(harness)
    assert 0 < caught.value.retry_after_seconds <= 900
    harness.clock.advance(901)
    assert await login(harness)


async def test_a_success_clears_the_failure_count(harness):
    await signed_up(harness)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await login(harness, password="wrong password")
    await login(harness)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await login(harness, password="wrong password")


async def test_disabled_account_is_told_only_with_the_right_password(harness):
    user = await signed_up(harness)
    harness.database.users[user.uid].is_active = False
    with pytest.raises(InvalidCredentials):
        await login(harness, password="wrong password")
    with pytest.raises(AccountDisabled):
        await login(harness)


async def test_login_rehashes_when_parameters_change(harness):
    user = await signed_up(harness)
    harness.hasher.version = 2
    await login(harness)
    assert harness.database.users[user.uid].password_hash.startswith("plain2$")


async def test_refresh_rotates_and_a_replayed_token_ends_the_session(harness):
    await signed_up(harness)
    first = await login(harness)
    refresh = harness.container.refresh_session()
    second = await refresh.execute(first.refresh_token)
    with pytest.raises(TokenRevoked):
        await refresh.execute(first.refresh_token)  # theft: the session is gone
    with pytest.raises(TokenRevoked):
        await refresh.execute(second.refresh_token)
    with pytest.raises(TokenRevoked):
        await harness.container.authenticate().execute(second.access_token)


async def test_tokens_of_the_wrong_type_are_refused(harness):
    await signed_up(harness)
    pair = await login(harness)
    with pytest.raises(RefreshTokenRequired):
        await harness.container.refresh_session().execute(pair.access_token)
    with pytest.raises(InvalidToken):
        await harness.container.authenticate().execute(pair.refresh_token)


async def test_rotation_does_not_extend_the_session(harness):
    await signed_up(harness)
    pair = await login(harness)
    refresh = harness.container.refresh_session()
    for _ in range(7):
        harness.clock.advance(24 * 3600 - 60)
        pair = await refresh.execute(pair.refresh_token)
    harness.clock.advance(7 * 60 + 1)  # a week and a second after login
    with pytest.raises((InvalidToken, TokenRevoked)):
        await refresh.execute(pair.refresh_token)


async def test_access_token_expires(harness):
    await signed_up(harness)
    pair = await login(harness)
    harness.clock.advance(901)
    with pytest.raises(InvalidToken):
        await harness.container.authenticate().execute(pair.access_token)


async def test_logout_ends_only_this_session(harness):
    await signed_up(harness)
    mine, other = await login(harness), await login(harness)
    authenticate = harness.container.authenticate()
    await harness.container.log_out().execute(await authenticate.execute(mine.access_token))
    for token in (mine.access_token,):
        with pytest.raises(TokenRevoked):
            await authenticate.execute(token)
    with pytest.raises(TokenRevoked):
        await harness.container.refresh_session().execute(mine.refresh_token)
    assert await authenticate.execute(other.access_token)


async def test_logout_everywhere_ends_every_session_of_the_user_only(harness):
    await signed_up(harness)
    await signed_up(harness, "bob@example.com", "bob")
    mine, other = await login(harness), await login(harness)
    bobs = await login(harness, "bob@example.com")
    authenticate = harness.container.authenticate()
    await harness.container.log_out_everywhere().execute(
        await authenticate.execute(mine.access_token)
    )
    for pair in (mine, other):
        with pytest.raises(TokenRevoked):
            await authenticate.execute(pair.access_token)
    assert await authenticate.execute(bobs.access_token)


async def test_deactivated_user_tokens_stop_working(harness):
    user = await signed_up(harness)
    pair = await login(harness)
    harness.database.users[user.uid].is_active = False
    with pytest.raises(TokenRevoked):
        await harness.container.authenticate().execute(pair.access_token)
    with pytest.raises(TokenRevoked):
        await harness.container.refresh_session().execute(pair.refresh_token)
