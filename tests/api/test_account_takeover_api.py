"""Findings of an outside probe about accounts, each as the attacker tried it, on both
configurations: an admin takeover through `bookly create-admin`, signup and reset
requests telling which emails exist, sessions outliving a verification, dead links."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.api.support import BODY, PASSWORD, bearer, statements_counted
from tests.live_service import run_bookly, service_environment

AUTH = "/api/v1/auth"
BOOK = BODY  # a book every check accepts
OPERATOR_PASSWORD = "operator secret password 9"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def bookly(api, tmp_path, *argv: str, stdin: str = ""):
    """`bookly ARGV` as the operator runs it: a process on the service's settings."""
    settings = {
        name: str(getattr(api.settings, name))
        for name in ("database_url", "secret_key", "redis_url", "redis_key_prefix")
        if getattr(api.settings, name)
    }
    return await asyncio.to_thread(
        run_bookly, service_environment(tmp_path, **settings), *argv, stdin=stdin, cwd=tmp_path
    )


async def test_create_admin_on_an_email_signed_up_first_leaves_the_signer_nothing(api, tmp_path):
    await api.signup("ops@example.com", "attacker", verify=False)
    stolen = (await api.login("ops@example.com"))["access_token"]
    done = await bookly(
        api,
        tmp_path,
        "create-admin",
        "--email",
        "ops@example.com",
        "--password-stdin",
        stdin=OPERATOR_PASSWORD + "\n",
    )
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    assert out.startswith("ops@example.com is an admin (")
    assert "already had an account (role user, email NOT verified" in err
    assert "'attacker'" in err
    refused = await api.client.get("/api/v1/users", headers=bearer(stolen))
    assert (refused.status_code, refused.json()["error_code"]) == (401, "token_revoked")
    wrong = await api.client.post(
        f"{AUTH}/login", json={"email": "ops@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == 401
    admin = (await api.login("ops@example.com", OPERATOR_PASSWORD))["access_token"]
    assert (await api.client.get("/api/v1/users", headers=bearer(admin))).status_code == 200


async def test_signup_answers_a_taken_username_alike_for_any_email(api):
    await api.signup("ada@example.com", "ada")

    async def sign_up(email: str, username: str):
        response = await api.client.post(
            f"{AUTH}/signup",
            json={
                "email": email,
                "username": username,
                "first_name": "Eve",
                "last_name": "E",
                "password": "another fine passphrase",
            },
        )
        body = response.json()
        return response.status_code, body.get("error_code"), body.get("detail")

    taken = {await sign_up(email, "ADA") for email in ("ada@example.com", "new@example.com")}
    assert taken == {(409, "username_taken", "This username is already taken.")}
    free = {
        await sign_up(email, name)
        for email, name in (("ada@example.com", "free1"), ("new@example.com", "free2"))
    }
    assert free == {(202, None, None)}


@pytest.mark.parametrize("path", ["password-reset-request", "verify/resend"])
async def test_mail_requests_do_the_same_work_for_any_email(api, path):
    """Known and unknown addresses cost the same statements (and so the same time): what
    differs, whether a mail goes out, is decided later by whoever sends it."""
    await api.signup("ada@example.com", "ada", verify=path == "password-reset-request")
    await api.mails()
    work = []
    for email in ("ada@example.com", "nobody@example.com"):
        with statements_counted(api) as counted:
            response = await api.client.post(f"{AUTH}/{path}", json={"email": email})
        work.append((response.status_code, response.json(), counted()))
    assert work[0] == work[1]
    assert work[0][0] == 202
    sent = [(m["To"], m["Subject"]) for m in await api.mails()]
    assert [to for to, _ in sent[1:]] == ["ada@example.com"]  # nobody@ gets nothing


async def test_verifying_the_email_ends_the_sessions_opened_before_it(api):
    await api.signup("victim@example.com", "squatter", verify=False)
    early = (await api.login("victim@example.com"))["access_token"]
    token = await api.link("victim@example.com", "Confirm")
    assert (await api.client.get(f"{AUTH}/verify/{token}")).status_code == 200
    refused = await api.client.post("/api/v1/books", json=BOOK, headers=bearer(early))
    assert (refused.status_code, refused.json()["error_code"]) == (401, "token_revoked")
    fresh = (await api.login("victim@example.com"))["access_token"]
    assert (
        await api.client.post("/api/v1/books", json=BOOK, headers=bearer(fresh))
    ).status_code == 201


async def test_every_link_in_every_mail_works_when_clicked(api):
    await api.signup("ada@example.com", "ada", verify=False)
    await api.client.post(
        f"{AUTH}/signup",
        json={
            "email": "ada@example.com",
            "username": "ada2",
            "first_name": "A",
            "last_name": "B",
            "password": PASSWORD,
        },
    )  # a repeated sign-up: the "account exists" notice
    await api.client.post(f"{AUTH}/password-reset-request", json={"email": "ada@example.com"})
    links = {}
    for message in await api.mails():
        text = message.get_body(("plain",)).get_content()
        for url in re.findall(r"https?://\S+", text):
            links[message["Subject"]] = url.removeprefix(api.settings.public_url)
    assert len(links) == 3
    verify = links.pop(next(s for s in links if "Confirm" in s))
    for path in [*links.values(), verify]:  # the verification link last: it works once
        page = await api.client.get(path, headers=BROWSER)
        assert page.status_code == 200, (path, page.text)
        assert page.headers["content-type"].startswith("text/html")
        forms = re.findall(r'<form method="post" action="([^"]+)"', page.text)
        if path != verify:
            assert len(forms) == 1
            assert (await api.client.get(path)).json()["message"]  # JSON for API clients


async def test_the_reset_page_sets_a_new_password_through_its_form(api):
    await api.signup("ada@example.com", "ada")
    session = (await api.login("ada@example.com"))["access_token"]
    asked = await api.client.post(
        "/account/password-reset-request", data={"email": "ada@example.com"}, headers=BROWSER
    )
    assert asked.status_code == 200 and "Check your inbox" in asked.text
    token = await api.link("ada@example.com", "Reset")
    page = await api.client.get(f"{AUTH}/password-reset-confirm/{token}", headers=BROWSER)
    (action,) = re.findall(r'<form method="post" action="([^"]+)"', page.text)
    mismatch = await api.client.post(
        action,
        data={"new_password": "a new long passphrase", "confirm_new_password": "something else"},
    )
    assert mismatch.status_code == 422 and "a new long passphrase" not in mismatch.text
    done = await api.client.post(
        action,
        data={
            "new_password": "a new long passphrase",
            "confirm_new_password": "a new long passphrase",
        },
    )
    assert done.status_code == 200 and "Password changed" in done.text
    assert (await api.client.get(f"{AUTH}/me", headers=bearer(session))).status_code == 401
    await api.login("ada@example.com", "a new long passphrase")
    used = await api.client.get(f"{AUTH}/password-reset-confirm/{token}", headers=BROWSER)
    assert used.status_code == 400 and "Ask for a new link" in used.text
    used_json = await api.client.get(f"{AUTH}/password-reset-confirm/{token}")
    assert (used_json.status_code, used_json.json()["error_code"]) == (400, "invalid_link")
