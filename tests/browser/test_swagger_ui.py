"""Swagger UI in a real browser: Debian's headless Chromium, driven by Playwright for
Python, against `bookly serve` (the embedded default). It authorizes with the OAuth2
password form and calls GET /api/v1/auth/me through the page, with no internet: every
asset comes from the service itself.

Skips when Chromium or Playwright is missing, unless BOOKLY_REQUIRE_SERVICES=1 (as in CI,
whose .ci/run installs Debian's `chromium`): then it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_service import (
    LiveService,
    create_admin,
    live_service,
    run_bookly,
    service_environment,
)
from tests.services import unavailable

CHROMIUM = Path(os.environ.get("BOOKLY_TEST_CHROMIUM", "/usr/bin/chromium"))
# As root, in a sandbox, on a machine with no network but the package registries.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL = "swagger.admin@example.com"
PASSWORD = "Swagger UI knows my password"
TIMEOUT_MS = 20_000


def outside_requests(page, base_url: str) -> list[str]:
    """Requests the page sent past the service (none may: the docs work offline). One the
    page's own CSP stopped in the browser (ReDoc's footer logo) never left it."""
    seen: list[str] = []
    local = (base_url, "blob:", "data:")  # in-page URLs (ReDoc's search worker) stay here

    page.on(
        "requestfinished",
        lambda request: None if request.url.startswith(local) else seen.append(request.url),
    )
    page.on(
        "requestfailed",
        lambda request: (
            None
            if request.url.startswith(local) or request.failure == "csp"
            else seen.append(f"{request.url} ({request.failure})")
        ),
    )
    return seen


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        unavailable(f"Chromium ({CHROMIUM}; Debian package `chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        unavailable("Playwright for Python (pip install playwright)", error)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    workdir = tmp_path_factory.mktemp("swagger-ui")
    environment = service_environment(workdir)
    created = run_bookly(environment, "migrate", cwd=workdir)
    assert created.returncode == 0, created.stderr
    create_admin(environment, EMAIL, PASSWORD, workdir)
    with live_service(environment, workdir) as started:
        yield started


def test_authorize_and_call_auth_me_through_swagger_ui(browser, service, tmp_path):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    elsewhere = outside_requests(page, service.base_url)
    try:
        page.goto(f"{service.base_url}/api/v1/docs")
        page.locator(".swagger-ui .auth-wrapper button.authorize").click()

        dialog = page.locator(".swagger-ui .dialog-ux .modal-ux")
        dialog.locator("#oauth_username").fill(EMAIL)
        dialog.locator("#oauth_password").fill(PASSWORD)
        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/token")) as token:
            dialog.locator(".auth-btn-wrapper button.authorize").click()
        assert token.value.status == 200
        dialog.locator(".auth-btn-wrapper button", has_text="Logout").wait_for()  # authorized
        dialog.locator(".auth-btn-wrapper button.btn-done").click()

        me = page.locator(
            ".opblock.opblock-get",
            has=page.locator('.opblock-summary-path[data-path="/api/v1/auth/me"]'),
        )
        me.locator(".opblock-summary").first.click()
        me.locator("button.try-out__btn").click()
        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/me")) as called:
            me.locator("button.execute").click()
        assert called.value.status == 200
        assert called.value.request.headers["authorization"].startswith("Bearer ")

        shown = me.locator(".responses-wrapper .live-responses-table tbody .response").first
        shown.locator(".response-col_status").wait_for()
        assert shown.locator(".response-col_status").inner_text().strip() == "200"
        body = shown.locator(".response-col_description .highlight-code").inner_text()
        assert f'"email": "{EMAIL}"' in body
        assert '"role": "admin"' in body
        assert elsewhere == [], f"the docs page reached outside the service: {elsewhere}"
    except Exception:
        page.screenshot(path=str(tmp_path / "swagger-ui.png"), full_page=True)
        raise
    finally:
        context.close()


def test_redoc_renders_the_schema_offline(browser, service):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    elsewhere = outside_requests(page, service.base_url)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{service.base_url}/api/v1/redoc")
        page.locator("h1", has_text="Bookly API").wait_for()
        page.get_by_text("/api/v1/auth/me").first.wait_for(state="attached")
        assert elsewhere == [], f"the docs page reached outside the service: {elsewhere}"
        assert errors == []
    finally:
        context.close()
