"""`Idempotency-Key` on the POSTs that create something: a retry with the same key, by
the same caller, with the same request, gets the first answer again instead of creating
a second thing (the IETF's Idempotency-Key header draft).

A route opts in with `dependencies=[IDEMPOTENT]` on a router whose `route_class` is
`IdempotentRoute`. The key is the caller's: scoped by the user of the Bearer token (or
"anonymous" on routes without one), so two users' keys never meet. Only successful
answers are kept (for `BOOKLY_IDEMPOTENCY_TTL_SECONDS`); an error frees the key, so a
retry runs again. A request that finds its key held by the same request still running
waits up to `WAIT_SECONDS` for its answer, then is refused (409 `idempotency_key_in_use`);
the same key with another request is 422 `idempotency_key_reused`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import structlog
from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute

from application.ports.idempotency import Claim, StoredAnswer
from domain.errors import DomainError
from entrypoints.http.problems import problem

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"  # 1-255 printable ASCII characters
LEASE_SECONDS = 30.0  # the longest a request holds its key (one whose worker died, too)
WAIT_SECONDS = 2.0
POLL_SECONDS = 0.05
KEPT_HEADERS = ("content-type", "location", "link")
_VALID_KEY = re.compile(KEY_PATTERN)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
logger = structlog.get_logger("bookly.http")


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=KEY_HEADER,
            pattern=KEY_PATTERN,
            openapi_examples={
                "new": {
                    "summary": "A new random key for each new request",
                    "value": "8e3b1c2e-5f4a-4d7e-9a61-2b0c9d7f3a10",
                }
            },
            description=(
                "Makes retrying this request safe: a retry with the same key and the same "
                "body, within 24 hours (`BOOKLY_IDEMPOTENCY_TTL_SECONDS`), gets the first "
                f"answer again, marked `{REPLAYED_HEADER}: true`, and creates nothing. The "
                "same key with another body is 422 `idempotency_key_reused`; while the "
                "first request still runs, 409 `idempotency_key_in_use`. Use a new random "
                "key (a UUID) for each new request."
            ),
        ),
    ] = None,
) -> str | None:
    return key


IDEMPOTENT = Depends(idempotency_key)


class IdempotentRoute(APIRoute):
    """Routes marked with `IDEMPOTENT` answer retries from the idempotency store; the
    others are served as APIRoute serves them (FastAPI's documented extension point)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if self._idempotent():  # the success answer documents its replay header
            answer = self.responses.setdefault(self.status_code or 200, {})
            answer.setdefault("headers", {})[REPLAYED_HEADER] = {
                "description": f"`true` on the replay of a request sent with this {KEY_HEADER}",
                "schema": {"type": "string", "enum": ["true"]},
            }

    def _idempotent(self) -> bool:
        return any(marker.dependency is idempotency_key for marker in self.dependencies)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not self._idempotent():
            return handler

        async def answer_once(request: Request) -> Response:
            return await _answer_once(request, handler)

        return answer_once


def _caller(request: Request) -> str | None:
    """Whose key this is: the Bearer token's user, "anonymous" without a token, None for a
    token that does not verify (the route refuses it; no key is looked at)."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        return "anonymous"
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return str(request.app.state.container.token_codec().decode(token).subject)
    except DomainError:
        return None


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\n".join(parts)).hexdigest()


async def _answer_once(request: Request, handler: Handler) -> Response:
    key = request.headers.get(KEY_HEADER)
    caller = _caller(request)
    if key is None or caller is None or not _VALID_KEY.match(key):
        return await handler(request)  # no key; or the route refuses the token or the key
    scoped = _digest(caller.encode(), key.encode())
    fingerprint = _digest(
        request.method.encode(),
        request.url.path.encode(),
        request.url.query.encode(),
        await request.body(),
    )
    store = request.app.state.container.idempotency_store()
    found = await store.reserve(scoped, fingerprint, LEASE_SECONDS)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while found.claim is Claim.RUNNING and loop.time() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        found = await store.reserve(scoped, fingerprint, LEASE_SECONDS)
    if found.claim is Claim.DONE:
        assert found.answer is not None  # DONE carries it
        return _replay(found.answer)
    if found.claim is Claim.REUSED:
        return problem(
            request,
            422,
            "idempotency_key_reused",
            f"This {KEY_HEADER} came with another request; send a new key with a new request.",
        )
    if found.claim is Claim.RUNNING:
        return problem(
            request,
            409,
            "idempotency_key_in_use",
            f"A request with this {KEY_HEADER} is still running; retry shortly.",
            {"Retry-After": "1"},
        )
    try:
        response = await handler(request)
    except BaseException:
        with contextlib.suppress(Exception):  # the error that ended the request matters more
            await asyncio.shield(store.release(scoped, fingerprint))
        raise
    body = getattr(response, "body", None)
    try:
        if 200 <= response.status_code < 300 and isinstance(body, bytes):
            kept = tuple((k, v) for k, v in response.headers.items() if k in KEPT_HEADERS)
            ttl = request.app.state.settings.idempotency_ttl_seconds
            answer = StoredAnswer(response.status_code, kept, body)
            await store.complete(scoped, fingerprint, answer, ttl)
        else:
            await store.release(scoped, fingerprint)
    except Exception as error:  # the work is done: its answer goes out all the same
        logger.warning("idempotency_key_not_kept", error=type(error).__name__)
    return response


def _replay(answer: StoredAnswer) -> Response:
    response = Response(answer.body, status_code=answer.status)
    for name, value in answer.headers:
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response
