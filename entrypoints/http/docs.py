"""Swagger UI and ReDoc, served with their assets from this process.

FastAPI's own docs pages load Swagger UI and ReDoc from a CDN; behind a firewall (or
without internet) they stay blank. The `fastapi-offline` package ships the same
distributions (swagger-ui 5, ReDoc 2 standalone) as plain files; we only use those
files and mount them next to the docs pages.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_FOLDER = Path(str(files("fastapi_offline") / "static"))
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def add_docs(app: FastAPI, docs_url: str, redoc_url: str) -> None:
    """Swagger UI at `docs_url` (with the OAuth2 redirect page at
    `app.swagger_ui_oauth2_redirect_url`), ReDoc at `redoc_url`, assets under
    `{docs_url}/assets/`. Build the app with `docs_url=None, redoc_url=None`."""
    assert app.openapi_url, "the docs need the OpenAPI schema"
    openapi_url, assets_url = app.openapi_url, f"{docs_url}/assets"
    missing = [name for name in ASSET_FILES if not (ASSETS_FOLDER / name).is_file()]
    if missing:
        raise RuntimeError(f"Swagger UI/ReDoc assets missing in {ASSETS_FOLDER}: {missing}")
    app.mount(assets_url, StaticFiles(directory=ASSETS_FOLDER), name="docs-assets")

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = root(request)
        redirect = app.swagger_ui_oauth2_redirect_url
        return get_swagger_ui_html(
            openapi_url=base + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{base}{assets_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{assets_url}/swagger-ui.css",
            swagger_favicon_url=f"{base}{assets_url}/favicon.png",
            oauth2_redirect_url=base + redirect if redirect else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    if app.swagger_ui_oauth2_redirect_url:

        @app.get(app.swagger_ui_oauth2_redirect_url, include_in_schema=False)
        async def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        return get_redoc_html(
            openapi_url=base + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{base}{assets_url}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{assets_url}/favicon.png",
            with_google_fonts=False,
        )
