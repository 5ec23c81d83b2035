"""Signup, verification, profile, password change and reset over HTTP."""

from __future__ import annotations

from tests.api.support import PASSWORD, bearer

AUTH = "/api/v1/auth"
NEW = "a brand new passphrase"


def signup_body(**fields):
    return {
        "email": "ada@example.com",
        "username": "ada",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "password": PASSWORD,
        **fields,
    }


async def test_signup_answers_alike_for_a_registered_email(api):
    first = await api.client.post(f"{AUTH}/signup", json=signup_body())
    second = await api.client.post(
        f"{AUTH}/signup", json=signup_body(email="ADA@Example.com", username="other")
    )
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    assert first.status_code == 202
    subjects = sorted(m["Subject"] for m in await api.mails())  # sent side by side
    assert subjects == [
        "Confirm your email address for Bookly",
        "Someone tried to sign up for Bookly with your email",
    ]


async def test_verification_mail_has_text_and_html_and_a_public_link(api):
    await api.client.post(f"{AUTH}/signup", json=signup_body(), headers={"Host": "evil.example"})
    await api.client.post(f"{AUTH}/signup", json=signup_body())
    (message,) = await api.mails()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "http://127.0.0.1:8000/api/v1/auth/verify/" in text
    assert "http://127.0.0.1:8000/api/v1/auth/verify/" in html
    assert "evil.example" not in text


async def test_signup_with_a_taken_username_is_a_conflict(api):
    await api.signup()
    response = await api.client.post(
        f"{AUTH}/signup", json=signup_body(email="bob@example.com", username="ADA")
    )
    assert (response.status_code, response.json()["error_code"]) == (409, "username_taken")


async def test_signup_validation_never_echoes_the_password(api):
    for password in ["short12", "qwertyuiop", "x" * 129]:
        response = await api.client.post(f"{AUTH}/signup", json=signup_body(password=password))
        assert response.status_code == 422, password
        body = response.json()
        assert body["error_code"] == "validation_error"
        assert body["errors"][0]["loc"] == ["body", "password"]
        assert password not in response.text
    assert await api.mails() == []


async def test_unknown_fields_and_wrong_types_are_refused(api):
    extra = await api.client.post(f"{AUTH}/signup", json=signup_body(role="admin"))
    wrong = await api.client.post(f"{AUTH}/signup", json=signup_body(first_name=["x"]))
    for response in (extra, wrong):
        assert (response.status_code, response.json()["error_code"]) == (422, "validation_error")
        assert response.headers["content-type"] == "application/problem+json"


async def test_verification_links_work_once(api):
    await api.signup(verify=False)
    token = await api.link("ada@example.com", "Confirm")
    assert (await api.client.get(f"{AUTH}/verify/{token}")).status_code == 200
    for bad in (token, "garbage", token[:-2] + "xx"):
        response = await api.client.get(f"{AUTH}/verify/{bad}")
        assert (response.status_code, response.json()["error_code"]) == (400, "invalid_link")


async def test_resend_answers_alike_and_mails_only_the_unverified(api):
    await api.signup(verify=False)
    for address in ("ada@example.com", "nobody@example.com"):
        response = await api.client.post(f"{AUTH}/verify/resend", json={"email": address})
        assert response.status_code == 202
    assert [m["To"] for m in await api.mails()] == ["ada@example.com", "ada@example.com"]


async def test_profile_patch_changes_only_what_is_sent(api):
    await api.signup()
    await api.signup("bob@example.com", "bob")
    token = (await api.login())["access_token"]
    before = (await api.client.get(f"{AUTH}/me", headers=bearer(token))).json()
    response = await api.client.patch(
        f"{AUTH}/me", json={"first_name": "Augusta"}, headers=bearer(token)
    )
    after = response.json()
    assert response.status_code == 200
    assert after["first_name"] == "Augusta"
    assert {k: v for k, v in after.items() if k not in ("first_name", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("first_name", "updated_at")
    }
    taken = await api.client.patch(f"{AUTH}/me", json={"username": "BOB"}, headers=bearer(token))
    assert (taken.status_code, taken.json()["error_code"]) == (409, "username_taken")
    sneaky = await api.client.patch(f"{AUTH}/me", json={"role": "admin"}, headers=bearer(token))
    assert sneaky.status_code == 422


async def test_password_change_ends_every_session(api):
    await api.signup()
    pair = await api.login()
    wrong = await api.client.post(
        f"{AUTH}/password-change",
        headers=bearer(pair["access_token"]),
        json={"current_password": "not it at all", "new_password": NEW},
    )
    assert (wrong.status_code, wrong.json()["error_code"]) == (403, "invalid_credentials")
    done = await api.client.post(
        f"{AUTH}/password-change",
        headers=bearer(pair["access_token"]),
        json={"current_password": PASSWORD, "new_password": NEW},
    )
    assert done.status_code == 204
    gone = await api.client.get(f"{AUTH}/me", headers=bearer(pair["access_token"]))
    assert gone.json()["error_code"] == "token_revoked"
    assert await api.login(password=NEW)


async def test_password_reset_works_once_and_ends_sessions(api):
    await api.signup()
    pair = await api.login()
    for address in ("ada@example.com", "nobody@example.com"):
        response = await api.client.post(f"{AUTH}/password-reset-request", json={"email": address})
        assert response.status_code == 202
    token = await api.link("ada@example.com", "Reset")
    url = f"{AUTH}/password-reset-confirm/{token}"
    mismatch = await api.client.post(url, json={"new_password": NEW, "confirm_new_password": "no"})
    weak = await api.client.post(
        url, json={"new_password": "password", "confirm_new_password": "password"}
    )
    assert [mismatch.status_code, weak.status_code] == [422, 422]
    assert weak.json()["errors"][0]["type"] == "password_too_common"
    ok = await api.client.post(url, json={"new_password": NEW, "confirm_new_password": NEW})
    assert ok.status_code == 200
    again = await api.client.post(
        url, json={"new_password": NEW + "!", "confirm_new_password": NEW + "!"}
    )
    assert (again.status_code, again.json()["error_code"]) == (400, "invalid_link")
    gone = await api.client.get(f"{AUTH}/me", headers=bearer(pair["access_token"]))
    assert gone.json()["error_code"] == "token_revoked"
    assert await api.login(password=NEW)
    assert len([m for m in await api.mails() if "Reset" in m["Subject"]]) == 1
