"""Validators and conditional requests (RFC 9110, sections 8.8 and 13).

Every successful `GET` (and `HEAD`) answer with a JSON body carries a strong `ETag`: a
digest of the body itself, so it changes exactly when the representation does (a book's
review figures and tags included) and costs no query. `If-None-Match` naming it answers
304 with no body. Such answers also say how they may be cached: `no-cache` (store, but ask
again each time: the `ETag` makes asking cheap), `private` when the request carried a
token, and `Vary: Authorization` always, since the same address may answer a token-holder
otherwise. Answers that already say (tokens: `no-store`) keep their own.

`PATCH` and `DELETE` of a book, a review or a tag, and `PATCH /auth/me`, take `If-Match`:
the change is made only if the resource's current `ETag` (as `GET` would give it,
computed under the row's lock) is one of those named, else 412 `precondition_failed` and
nothing changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import PreconditionFailed, PreconditionRequired
from entrypoints.http.documents import json_bytes

PUBLIC = b"public, no-cache"
PRIVATE = b"private, no-cache"


def last_modified(*moments: datetime) -> dict[str, str]:
    """The `Last-Modified` header of a representation: the newest change it shows. Some
    changes leave no time behind (a review deleted, a tag renamed), so the `ETag` is the
    validator; `If-Modified-Since` is not answered with 304."""
    return {"Last-Modified": format_datetime(max(moments).astimezone(UTC), usegmt=True)}


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def none_match(header: str, etag: str) -> bool:
    """`If-None-Match` (weak comparison): True if it names `etag`, or is `*`."""
    return header.strip() == "*" or etag in _tags(header)


class ConditionalMiddleware:
    """`ETag`, `Cache-Control`, `Vary` and 304s for the successful answers of GET and HEAD;
    other methods pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match, private = None, False
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"authorization":
                private = True
        held: Message | None = None

        async def validated(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    held = message  # sent with the body, once its digest is known
                    return
                await send(message)
                return
            if held is None:
                await send(message)
                return
            start, held = held, None
            body = message.get("body", b"")
            headers = start.get("headers", [])
            if message.get("more_body") or not body:  # streamed: no validator
                await send(start)
                await send(message)
                return
            etag = etag_of(body)
            present = {name for name, _ in headers}
            extra = [(b"etag", etag.encode()), (b"vary", b"Authorization")]
            if b"cache-control" not in present:
                extra.append((b"cache-control", PRIVATE if private else PUBLIC))
            if if_none_match is not None and none_match(if_none_match, etag):
                kept = [(n, v) for n, v in headers if n in (b"cache-control", b"last-modified")]
                await send(
                    {"type": "http.response.start", "status": 304, "headers": [*kept, *extra]}
                )
                await send({"type": "http.response.body", "body": b""})
                return
            start["headers"] = [*headers, *extra]
            await send(start)
            await send(message)

        await self.app(scope, receive, validated)


async def if_match(
    request: Request,
    header: Annotated[
        str | None,
        Header(
            alias="If-Match",
            openapi_examples={
                "etag": {
                    "summary": "The ETag of the resource from GET",
                    "value": '"3f2a9c0d5e7b41a68c1d2e3f4a5b6c7d"',
                },
                "any": {"summary": "Any current version: the resource exists", "value": "*"},
            },
            description=(
                "Change only if the resource is still as you last read it: its `ETag` (from "
                "`GET`), or several, comma-separated. Otherwise 412 `precondition_failed` "
                "and nothing changes. With `BOOKLY_REQUIRE_IF_MATCH=true` it is required "
                "(428 `precondition_required`)."
            ),
        ),
    ] = None,
) -> Callable[[Any], None] | None:
    """The precondition a use case checks under the row's lock: given the representation
    `GET` would answer now, raises PreconditionFailed unless the client's If-Match names
    its ETag. None when no If-Match was sent (and none is required)."""
    if header is None:
        if request.app.state.settings.require_if_match:
            raise PreconditionRequired()
        return None
    wanted = header.strip()
    tags = [tag.strip() for tag in header.split(",")]  # strong comparison: W/ never matches

    def check(document: Any) -> None:
        if wanted == "*":  # any current representation: the resource exists
            return
        if etag_of(json_bytes(document)) not in tags:
            raise PreconditionFailed()

    return check


Condition = Callable[[Any], None]  # given a document, raises unless If-Match names its ETag
IfMatch = Annotated[Condition | None, Depends(if_match)]


def document_validators(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds to an OpenAPI document what `ConditionalMiddleware` does for every GET: the
    `If-None-Match` parameter, the 304, and the headers of the 200."""
    headers = {
        "ETag": {
            "description": "A strong validator of this answer: send it back in "
            "`If-None-Match` (a 304 if unchanged) or in `If-Match` to change the resource.",
            "schema": {"type": "string"},
        },
        "Cache-Control": {
            "description": "`public, no-cache` (`private, no-cache` when a token was sent): "
            "caches may keep it but must ask again, which the `ETag` makes cheap.",
            "schema": {"type": "string"},
        },
        "Vary": {"description": "`Authorization`", "schema": {"type": "string"}},
        "Last-Modified": {
            "description": "A book, a review, your account: the newest change the "
            "representation shows. Validate with the `ETag`: some changes leave no time.",
            "schema": {"type": "string"},
        },
    }
    parameter = {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "The `ETag`s of copies you hold: 304 with no body if one is current.",
        "schema": {"type": "string"},
    }
    for path in schema.get("paths", {}).values():
        operation = path.get("get")
        if operation is None or "200" not in operation.get("responses", {}):
            continue
        operation.setdefault("parameters", []).append(parameter)
        ok = operation["responses"]["200"]
        ok["headers"] = {**headers, **ok.get("headers", {})}
        operation["responses"]["304"] = {
            "description": "Not modified: the copy named in `If-None-Match` is current.",
            "headers": {"ETag": headers["ETag"]},
        }
    return schema
