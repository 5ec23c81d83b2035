"""/api/v1/users for admins, and roles counting from the next request; both configurations."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.api.support import BODY, PASSWORD, bearer
from tests.services import USER_FIELDS

USERS = "/api/v1/users"
BOOK = BODY  # a book every check accepts


async def admin(api, email="root@example.com") -> tuple[str, str]:
    """(access token, uid) of a new verified admin, made as `bookly create-admin` does."""
    user = (await api.container.create_admin().execute(email, PASSWORD)).user
    return (await api.login(email))["access_token"], str(user.uid)


async def member(api, email="ada@example.com", username="ada", verify=True) -> tuple[str, str]:
    await api.signup(email, username, verify=verify)
    token = (await api.login(email))["access_token"]
    return token, (await api.client.get("/api/v1/auth/me", headers=bearer(token))).json()["uid"]


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error_code"]


async def test_admins_list_users_filtered_and_paged(api):
    root, _ = await admin(api)
    await member(api)
    await member(api, "bob_1@example.com", "bob_1", verify=False)
    await member(api, "cy@example.org", "Cy.100", verify=True)

    async def emails(**params) -> list[str]:
        response = await api.client.get(USERS, params=params, headers=bearer(root))
        assert response.status_code == 200, response.text
        return [u["email"] for u in response.json()["items"]]

    everyone = (await api.client.get(USERS, headers=bearer(root))).json()
    assert (everyone["total"], everyone["limit"], everyone["offset"]) == (4, 20, 0)
    assert [u["email"] for u in everyone["items"]] == [
        "root@example.com",
        "ada@example.com",
        "bob_1@example.com",
        "cy@example.org",
    ]
    assert set(everyone["items"][0]) == USER_FIELDS
    assert everyone == (await api.client.get(USERS, headers=bearer(root))).json()
    assert await emails(role="admin") == ["root@example.com"]
    assert await emails(role="user", is_verified="false") == ["bob_1@example.com"]
    assert await emails(is_verified="true", q="EXAMPLE.COM") == [
        "root@example.com",
        "ada@example.com",
    ]
    assert await emails(q="_") == ["bob_1@example.com"]
    assert await emails(q="%") == []  # a wildcard would match everyone
    assert await emails(q="y.1") == ["cy@example.org"]
    assert await emails(is_active="false") == []
    page = (
        await api.client.get(USERS, params={"limit": 2, "offset": 1}, headers=bearer(root))
    ).json()
    assert ([u["email"] for u in page["items"]], page["total"]) == (
        ["ada@example.com", "bob_1@example.com"],
        4,
    )


async def test_only_admins_list_users(api):
    user, _ = await member(api)
    assert error(await api.client.get(USERS)) == (401, "not_authenticated")
    assert (await api.client.get(USERS)).headers["www-authenticate"] == "Bearer"
    assert error(await api.client.get(USERS, headers=bearer(user))) == (
        403,
        "insufficient_permissions",
    )
    assert error(await api.client.get(USERS, headers=bearer("not.a.token"))) == (
        401,
        "invalid_token",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"role": "root"},
        {"is_active": "perhaps"},
        {"q": "x" * 255},
    ],
)
async def test_bad_list_parameters(api, params):
    root, _ = await admin(api)
    response = await api.client.get(USERS, params=params, headers=bearer(root))
    assert error(response) == (422, "validation_error")


async def test_read_a_user_as_admin_or_oneself(api):
    root, root_uid = await admin(api)
    ada, ada_uid = await member(api)
    bob, _ = await member(api, "bob@example.com", "bob")
    for token in (root, ada):
        response = await api.client.get(f"{USERS}/{ada_uid}", headers=bearer(token))
        assert response.status_code == 200
        assert set(response.json()) == USER_FIELDS
        assert response.json()["email"] == "ada@example.com"
    assert error(await api.client.get(f"{USERS}/{ada_uid}", headers=bearer(bob))) == (
        403,
        "insufficient_permissions",
    )
    assert error(await api.client.get(f"{USERS}/{uuid.uuid4()}", headers=bearer(bob))) == (
        403,
        "insufficient_permissions",
    )  # no existence oracle for non-admins
    assert error(await api.client.get(f"{USERS}/{uuid.uuid4()}", headers=bearer(root))) == (
        404,
        "user_not_found",
    )
    assert error(await api.client.get(f"{USERS}/{root_uid}")) == (401, "not_authenticated")
    assert error(await api.client.get(f"{USERS}/not-a-uid", headers=bearer(root))) == (
        422,
        "validation_error",
    )


async def test_admins_change_role_and_active_flag(api):
    root, _ = await admin(api)
    ada, ada_uid = await member(api)
    before = (await api.client.get(f"{USERS}/{ada_uid}", headers=bearer(root))).json()
    response = await api.client.patch(
        f"{USERS}/{ada_uid}", json={"role": "guest"}, headers=bearer(root)
    )
    assert response.status_code == 200
    after = response.json()
    assert (after["role"], after["is_active"]) == ("guest", True)
    assert after["updated_at"] > before["updated_at"]
    assert {k: v for k, v in after.items() if k not in ("role", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("role", "updated_at")
    }
    both = await api.client.patch(
        f"{USERS}/{ada_uid}", json={"role": "user", "is_active": False}, headers=bearer(root)
    )
    assert (both.json()["role"], both.json()["is_active"]) == ("user", False)
    same = await api.client.patch(f"{USERS}/{ada_uid}", json={}, headers=bearer(root))
    assert same.status_code == 200 and same.json() == both.json()
    assert error(
        await api.client.patch(f"{USERS}/{ada_uid}", json={"role": "admin"}, headers=bearer(ada))
    ) == (401, "token_revoked")


@pytest.mark.parametrize(
    "body",
    [
        {"role": "root"},
        {"role": None},
        {"is_active": None},
        {"is_active": "no"},
        {"is_active": 0},
        {"email": "x@example.com"},
        {"is_verified": True},
        [],
    ],
)
async def test_bad_changes_are_refused(api, body):
    root, _ = await admin(api)
    _, ada_uid = await member(api)
    response = await api.client.patch(f"{USERS}/{ada_uid}", json=body, headers=bearer(root))
    assert error(response) == (422, "validation_error")
    user = (await api.client.get(f"{USERS}/{ada_uid}", headers=bearer(root))).json()
    assert (user["role"], user["is_active"], user["is_verified"]) == ("user", True, True)


async def test_only_admins_change_users(api):
    root, root_uid = await admin(api)
    ada, ada_uid = await member(api)
    for uid in (ada_uid, root_uid, str(uuid.uuid4())):
        response = await api.client.patch(
            f"{USERS}/{uid}", json={"role": "admin"}, headers=bearer(ada)
        )
        assert error(response) == (403, "insufficient_permissions")
    assert error(await api.client.patch(f"{USERS}/{ada_uid}", json={"role": "admin"})) == (
        401,
        "not_authenticated",
    )
    assert error(
        await api.client.patch(
            f"{USERS}/{uuid.uuid4()}", json={"role": "admin"}, headers=bearer(root)
        )
    ) == (404, "user_not_found")


async def test_the_last_active_admin_cannot_step_down(api):
    root, root_uid = await admin(api)
    for body in (
        {"role": "user"},
        {"role": "guest"},
        {"is_active": False},
        {"role": "admin", "is_active": False},
    ):
        response = await api.client.patch(f"{USERS}/{root_uid}", json=body, headers=bearer(root))
        assert error(response) == (409, "last_admin")
    second, second_uid = await admin(api, "second@example.com")
    response = await api.client.patch(
        f"{USERS}/{root_uid}", json={"role": "user"}, headers=bearer(root)
    )
    assert response.status_code == 200  # another admin remains
    assert error(
        await api.client.patch(
            f"{USERS}/{second_uid}", json={"is_active": False}, headers=bearer(second)
        )
    ) == (409, "last_admin")


async def test_two_admins_demoting_each_other_at_once_leave_one(api):
    first, first_uid = await admin(api)
    second, second_uid = await admin(api, "second@example.com")
    responses = await asyncio.gather(
        api.client.patch(f"{USERS}/{second_uid}", json={"role": "user"}, headers=bearer(first)),
        api.client.patch(f"{USERS}/{first_uid}", json={"role": "user"}, headers=bearer(second)),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([200, 409], [200, 403]), [r.json() for r in responses]
    admins = [
        u
        for token in (first, second)
        if (
            r := await api.client.get(USERS, params={"role": "admin"}, headers=bearer(token))
        ).status_code
        == 200
        for u in r.json()["items"]
    ]
    assert len({u["uid"] for u in admins}) == 1


async def test_a_demoted_admin_loses_admin_routes_with_the_token_they_hold(api):
    root, _ = await admin(api)
    other, other_uid = await admin(api, "other@example.com")
    assert (await api.client.get(USERS, headers=bearer(other))).status_code == 200
    await api.client.patch(f"{USERS}/{other_uid}", json={"role": "user"}, headers=bearer(root))
    assert error(await api.client.get(USERS, headers=bearer(other))) == (
        403,
        "insufficient_permissions",
    )
    assert (await api.client.get("/api/v1/auth/me", headers=bearer(other))).json()["role"] == "user"


async def test_a_deactivated_account_is_shut_out_at_once(api):
    root, _ = await admin(api)
    await api.signup()
    pairs = [await api.login() for _ in range(2)]
    uid = (
        await api.client.get("/api/v1/auth/me", headers=bearer(pairs[0]["access_token"]))
    ).json()["uid"]
    response = await api.client.patch(
        f"{USERS}/{uid}", json={"is_active": False}, headers=bearer(root)
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    for pair in pairs:
        me = await api.client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
        assert error(me) == (401, "token_revoked")
        assert me.headers["www-authenticate"] == "Bearer"
        refreshed = await api.client.post(
            "/api/v1/auth/refresh", headers=bearer(pair["refresh_token"])
        )
        assert error(refreshed) == (401, "token_revoked")
    login = await api.client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert error(login) == (403, "account_disabled")
    await api.client.patch(f"{USERS}/{uid}", json={"is_active": True}, headers=bearer(root))
    fresh = await api.login()
    assert (
        await api.client.get("/api/v1/auth/me", headers=bearer(fresh["access_token"]))
    ).status_code == 200
    old = await api.client.get("/api/v1/auth/me", headers=bearer(pairs[0]["access_token"]))
    assert error(old) == (401, "token_revoked")


async def test_guests_read_and_manage_their_account_but_write_no_content(api):
    root, _ = await admin(api)
    ada, ada_uid = await member(api)
    book = (await api.client.post("/api/v1/books", json=BOOK, headers=bearer(ada))).json()
    await api.client.patch(f"{USERS}/{ada_uid}", json={"role": "guest"}, headers=bearer(root))
    guest = ada
    for response in (
        await api.client.post("/api/v1/books", json=BOOK, headers=bearer(guest)),
        await api.client.patch(
            f"/api/v1/books/{book['uid']}", json={"title": "x"}, headers=bearer(guest)
        ),
        await api.client.delete(f"/api/v1/books/{book['uid']}", headers=bearer(guest)),
        await api.client.get(USERS, headers=bearer(guest)),
    ):
        assert error(response) == (403, "insufficient_permissions")
    renamed = await api.client.patch(
        "/api/v1/auth/me", json={"first_name": "Gus"}, headers=bearer(guest)
    )
    assert (renamed.status_code, renamed.json()["role"]) == (200, "guest")
    assert (await api.client.get(f"{USERS}/{ada_uid}", headers=bearer(guest))).status_code == 200
    assert (await api.client.get(f"/api/v1/books/{book['uid']}")).json()["title"] == "Dune"
    assert (await api.client.get(f"{USERS}/{ada_uid}/books")).json()["total"] == 1
    changed = await api.client.post(
        "/api/v1/auth/password-change",
        headers=bearer(guest),
        json={"current_password": PASSWORD, "new_password": "another long passphrase"},
    )
    assert changed.status_code == 204


async def test_the_user_routes_are_documented(api):
    paths = (await api.client.get("/api/v1/openapi.json")).json()["paths"]
    assert {"401", "403", "422"} <= set(paths[USERS]["get"]["responses"])
    assert {"401", "403", "404", "409", "422"} <= set(
        paths[f"{USERS}/{{uid}}"]["patch"]["responses"]
    )
    assert {"role", "is_verified", "is_active", "q", "limit", "offset", "cursor"} == {
        p["name"] for p in paths[USERS]["get"]["parameters"] if p["in"] == "query"
    }
