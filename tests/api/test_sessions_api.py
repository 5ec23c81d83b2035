"""Sign up, verify, log in, refresh, log out: the session life cycle over HTTP."""

from __future__ import annotations

from tests.api.support import PASSWORD, bearer
from tests.services import USER_FIELDS

AUTH = "/api/v1/auth"


async def test_the_whole_journey(api):
    await api.signup(verify=False)
    token = await api.link("ada@example.com", "Confirm")
    assert (await api.client.get(f"{AUTH}/verify/{token}")).json() == {
        "message": "Your email address is verified."
    }

    login = await api.client.post(
        f"{AUTH}/login", json={"email": "ADA@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    pair = login.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (pair["token_type"], pair["expires_in"]) == ("bearer", 900)

    me = await api.client.get(f"{AUTH}/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    body = me.json()
    assert set(body) == USER_FIELDS
    assert (body["email"], body["role"], body["is_verified"]) == ("ada@example.com", "user", True)
    assert body["created_at"].endswith(("Z", "+00:00"))

    refreshed = await api.client.post(f"{AUTH}/refresh", headers=bearer(pair["refresh_token"]))
    assert refreshed.status_code == 200
    assert refreshed.headers["cache-control"] == "no-store"
    new = refreshed.json()
    assert (await api.client.get(f"{AUTH}/me", headers=bearer(new["access_token"]))).is_success

    out = await api.client.post(f"{AUTH}/logout", headers=bearer(new["access_token"]))
    assert out.status_code == 204
    for path, token in [("/me", new["access_token"]), ("/me", pair["access_token"])]:
        gone = await api.client.get(AUTH + path, headers=bearer(token))
        assert (gone.status_code, gone.json()["error_code"]) == (401, "token_revoked")
    again = await api.client.post(f"{AUTH}/refresh", headers=bearer(new["refresh_token"]))
    assert (again.status_code, again.json()["error_code"]) == (401, "token_revoked")


async def test_a_replayed_refresh_token_revokes_the_session(api):
    await api.signup()
    first = await api.login()
    second = (
        await api.client.post(f"{AUTH}/refresh", headers=bearer(first["refresh_token"]))
    ).json()
    replay = await api.client.post(f"{AUTH}/refresh", headers=bearer(first["refresh_token"]))
    assert (replay.status_code, replay.json()["error_code"]) == (401, "token_revoked")
    assert replay.headers["www-authenticate"] == "Bearer"
    for response in [
        await api.client.post(f"{AUTH}/refresh", headers=bearer(second["refresh_token"])),
        await api.client.get(f"{AUTH}/me", headers=bearer(second["access_token"])),
    ]:
        assert (response.status_code, response.json()["error_code"]) == (401, "token_revoked")


async def test_token_types_are_not_interchangeable(api):
    await api.signup()
    pair = await api.login()
    wrong = await api.client.post(f"{AUTH}/refresh", headers=bearer(pair["access_token"]))
    assert (wrong.status_code, wrong.json()["error_code"]) == (401, "refresh_token_required")
    wrong = await api.client.get(f"{AUTH}/me", headers=bearer(pair["refresh_token"]))
    assert (wrong.status_code, wrong.json()["error_code"]) == (401, "invalid_token")


async def test_logout_all_ends_every_session(api):
    await api.signup()
    one, two = await api.login(), await api.login()
    assert (
        await api.client.post(f"{AUTH}/logout-all", headers=bearer(one["access_token"]))
    ).status_code == 204
    for token in (one["access_token"], two["access_token"]):
        response = await api.client.get(f"{AUTH}/me", headers=bearer(token))
        assert response.json()["error_code"] == "token_revoked"
    response = await api.client.post(f"{AUTH}/refresh", headers=bearer(two["refresh_token"]))
    assert response.json()["error_code"] == "token_revoked"


async def test_a_logout_survives_a_restart(api_factory):
    async with api_factory() as api:
        await api.signup()
        gone, kept = await api.login(), await api.login()
        await api.client.post(f"{AUTH}/logout", headers=bearer(gone["access_token"]))
    async with api_factory() as restarted:
        response = await restarted.client.get(f"{AUTH}/me", headers=bearer(gone["access_token"]))
        assert response.json()["error_code"] == "token_revoked"
        response = await restarted.client.get(f"{AUTH}/me", headers=bearer(kept["access_token"]))
        assert response.status_code == 200


async def test_oauth2_form_login_for_swagger(api):
    await api.signup()
    response = await api.client.post(
        f"{AUTH}/token", data={"username": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    assert response.headers["cache-control"] == "no-store"
    wrong = await api.client.post(
        f"{AUTH}/token", data={"username": "ada@example.com", "password": "nope nope"}
    )
    assert (wrong.status_code, wrong.json()["error_code"]) == (401, "invalid_credentials")


async def test_login_failures_look_alike_and_the_sixth_is_limited(api):
    await api.signup()
    unknown = await api.client.post(
        f"{AUTH}/login", json={"email": "nobody@example.com", "password": "whatever1"}
    )
    wrong = await api.client.post(
        f"{AUTH}/login", json={"email": "ada@example.com", "password": "whatever1"}
    )

    def comparable(response):
        body = response.json()
        body.pop("request_id")
        return response.status_code, body

    assert comparable(unknown) == comparable(wrong)
    assert wrong.status_code == 401 and wrong.json()["error_code"] == "invalid_credentials"
    for _ in range(4):
        await api.client.post(
            f"{AUTH}/login", json={"email": "ada@example.com", "password": "whatever1"}
        )
    limited = await api.client.post(
        f"{AUTH}/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert (limited.status_code, limited.json()["error_code"]) == (429, "too_many_requests")
    assert 0 < int(limited.headers["retry-after"]) <= 900


async def test_a_disabled_account_learns_it_only_with_the_right_password(api):
    await api.signup()
    me = await api.client.get(f"{AUTH}/me", headers=bearer((await api.login())["access_token"]))
    async with api.container.uow()() as uow:
        user = await uow.users.get(__import__("uuid").UUID(me.json()["uid"]))
        user.is_active = False
        await uow.users.update(user)
        await uow.commit()
    wrong = await api.client.post(
        f"{AUTH}/login", json={"email": "ada@example.com", "password": "whatever1"}
    )
    assert wrong.json()["error_code"] == "invalid_credentials"
    right = await api.client.post(
        f"{AUTH}/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert (right.status_code, right.json()["error_code"]) == (403, "account_disabled")
