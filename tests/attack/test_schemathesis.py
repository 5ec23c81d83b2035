"""Schemathesis against the OpenAPI schema of the app, built in-process (ASGI).

The equivalent of `st run --mode all --checks all` with the stateful phase: every phase
(examples, coverage, fuzzing, stateful via the schema's OpenAPI links), positive and
negative data, every check the installed schemathesis registers; once as a verified
user and once as an admin, on both configurations. Zero failures, zero errors.

Where the server has a rule that JSON Schema cannot state (a common password, a password
confirmation, a random link token, "printable" tag names), schema-valid data may get the
documented 400/422: `BEYOND_THE_SCHEMA` says so, per operation, for the
`positive_data_acceptance` check only. Everything else the schema says, the app does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis
from dependency_injector import providers
from schemathesis.engine import Status, events, from_schema
from schemathesis.python import asgi

from entrypoints.container import build_container, close_resources, open_resources
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.support import PASSWORD, bearer

USER_EMAIL, ADMIN_EMAIL = "fuzz.user@bookly.example", "fuzz.admin@bookly.example"
SEED = int(os.environ.get("BOOKLY_SCHEMATHESIS_SEED", "20260501"))
MAX_EXAMPLES = int(os.environ.get("BOOKLY_SCHEMATHESIS_MAX_EXAMPLES", "5"))
MAX_STEPS = 10  # per stateful scenario
# What every run must have exercised, at least once.
CORE_CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
}
# Rules JSON Schema cannot state, where the contract documents 400 or 422 for input the
# schema allows.
PASSWORD_RULES = ["2xx", "401", "403", "409", "422"]  # 422: a common password
BEYOND_THE_SCHEMA = {
    # 400 `invalid_link`: a generated token is never a signed link.
    "GET /api/v1/auth/verify/{token}": ["2xx", "400"],
    "GET /api/v1/auth/password-reset-confirm/{token}": ["2xx", "400"],
    # ... and the confirmation must equal the new password, which must not be common.
    "POST /api/v1/auth/password-reset-confirm/{token}": ["2xx", "400", "422"],
    "POST /api/v1/auth/signup": PASSWORD_RULES,
    "POST /api/v1/auth/password-change": PASSWORD_RULES,
    # Tag names must be printable: no format, private-use or unassigned characters.
    "POST /api/v1/tags": ["2xx", "401", "403", "409", "422"],
    "PATCH /api/v1/tags/{uid}": ["2xx", "401", "403", "404", "409", "422"],
    "POST /api/v1/books": ["2xx", "401", "403", "422"],
    "POST /api/v1/books/{uid}/tags": ["2xx", "401", "403", "404", "422"],
    # 422 `invalid_cursor`: a generated cursor is never one the service gave out.
    **{
        f"GET /api/v1{path}": ["2xx", "401", "403", "404", "422"]
        for path in (
            "/books",
            "/books/{uid}/reviews",
            "/users",
            "/users/{uid}/books",
            "/users/{uid}/reviews",
            "/reviews",
            "/tags",
        )
    },
}
BOOK = {
    "title": "Solaris",
    "author": "Stanisław Lem",
    "publisher": "Walker",
    "published_date": "1961-06-01",
    "page_count": 204,
    "language": "en",
    "tags": ["science fiction"],
}


def config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "checks": {"enabled": True},  # every registered check
            "phases": {"stateful": {"max-steps": MAX_STEPS}},
            "auth": {"auto-signup": False},  # the accounts below are made by the fixture
            "operations": [
                {
                    "include-name": name,
                    "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
                }
                for name, statuses in BEYOND_THE_SCHEMA.items()
            ],
        }
    )


async def open_session(settings: Settings, email: str, admin: bool) -> str:
    """A fresh access token, made by the use cases beside the app, as the CLI would; an
    admin is first made an active admin again (fuzzing may demote or deactivate it)."""
    container = build_container(settings)
    policy = dataclasses.replace(container.policy(), max_failed_logins=1_000_000_000)
    container.policy.override(providers.Object(policy))  # fuzzed logins lock the account
    await open_resources(container)
    try:
        if admin:
            await container.create_admin().execute(email, PASSWORD)
        return (await container.log_in().execute(email, PASSWORD)).access_token
    finally:
        await close_resources(container)


def session_provider(settings: Settings, email: str, admin: bool) -> type:
    class FreshSession:
        """Schemathesis asks again after a 401 (the fuzzer logs out, changes roles)."""

        def get(self, case, context) -> str:
            return asyncio.run(open_session(settings, email, admin))

        def set(self, case, token: str, context) -> None:
            headers = case.headers if isinstance(case.headers, dict) else {}
            case.headers = {**headers, "Authorization": f"Bearer {token}"}

    return FreshSession


@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checks: set[str] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    phases: dict[str, str] = field(default_factory=dict)
    links_followed: int = 0

    def read(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.PhaseFinished):
            self.phases[event.phase.name.value] = event.status.value
        elif isinstance(event, events.NonFatalError | events.FatalError):
            self.errors.append(str(getattr(event, "info", None) or event))
        elif isinstance(event, events.ScenarioFinished):
            self._scenario(event)

    def _scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        for node in recorder.cases.values():
            self.links_followed += node.transition is not None
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                self.statuses[interaction.response.status_code] += 1
        for checks in recorder.checks.values():
            for check in checks:
                self.checks.add(check.name)
                if check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                self.failures.append(
                    f"[{event.phase.value}] {event.label or recorder.label} {check.name}: "
                    f"{failure.title}: {failure.message}\n{check.failure_info.code_sample}"
                )
        if event.status is Status.ERROR:
            self.errors.append(f"[{event.phase.value}] {event.label}: error")


@contextmanager
def app_under_test(settings: Settings) -> Iterator:
    """A fresh container and app on the prepared data; schemathesis starts its lifespan."""
    app = create_app(settings, build_container(settings))
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()  # closes the app's connections before the data is dropped


@pytest.fixture
async def prepared(api_factory) -> Settings:
    """A verified user and an admin, and a little of everything for reads to find."""
    async with api_factory(rate_limits_enabled=False) as api:
        await api.signup(USER_EMAIL, "fuzz-user")
        await api.container.create_admin().execute(ADMIN_EMAIL, PASSWORD, "fuzz-admin")
        user = bearer((await api.login(USER_EMAIL))["access_token"])
        book = (await api.client.post("/api/v1/books", json=BOOK, headers=user)).json()
        review = await api.client.post(
            f"/api/v1/books/{book['uid']}/reviews",
            headers=user,
            json={"rating": 4, "review_text": "Oceans think."},
        )
        assert review.status_code == 201, review.text
        return api.settings


# Both tokens on the embedded configuration; the admin, who reaches every write, on
# PostgreSQL and Redis too (the user's extra paths are permission checks, the same code on
# both): about 13 s a run here, the three well under a minute.
RUNS = [
    pytest.param("embedded", "user", id="embedded-user"),
    pytest.param("embedded", "admin", id="embedded-admin"),
    pytest.param(
        "production",
        "admin",
        id="production-admin",
        marks=[pytest.mark.postgres, pytest.mark.redis],
    ),
]


@pytest.mark.parametrize(("configuration", "role"), RUNS)
def test_the_api_keeps_its_schema_under_fuzzing(prepared: Settings, role: str):
    email, admin = (ADMIN_EMAIL, True) if role == "admin" else (USER_EMAIL, False)
    findings = Findings()
    with app_under_test(prepared) as app:
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=config())
        schema.auth(refresh_interval=3600, retry_on=[401, 403] if admin else [401])(
            session_provider(prepared, email, admin)
        )
        for event in from_schema(schema).execute():
            findings.read(event)

    assert not findings.failures, "\n\n".join(findings.failures)
    assert not findings.errors, "\n\n".join(findings.errors)
    assert findings.checks >= CORE_CHECKS, findings.checks
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert findings.phases.get(phase) == "success", findings.phases
    assert findings.links_followed > 0, "the stateful phase followed no link"
    assert findings.statuses[500] == 0
    assert sum(n for status, n in findings.statuses.items() if status < 300) > 50
