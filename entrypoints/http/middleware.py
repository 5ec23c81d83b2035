"""Pure ASGI middleware: the edge (hosts, request ids, access log, last-resort errors,
security headers) and the body limit."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterable

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.hosts import AllowedHosts
from entrypoints.http.problems import PROBLEM_JSON, problem_body

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'"
)

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_HEADER_BYTES = 16 * 1024  # all names and values together, as Node.js allows
logger = structlog.get_logger("bookly.http")


def new_request_id() -> str:
    """32 random hex digits, like a UUID's. Ids correlate log lines; they guard nothing, so
    they come from `random` (reseeded in every process) rather than a system call."""
    return f"{random.getrandbits(128):032x}"


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    request_id = scope.get("state", {}).get("request_id")
    body = json.dumps(
        problem_body(status, code, detail, scope.get("path", ""), request_id)
    ).encode()
    raw = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class EdgeMiddleware:
    """What every request goes through first, in one layer (each layer of middleware costs
    a call and a wrapped `send` per request):

    - the Host check: only well-formed Host headers naming a configured host are served
      (400 `invalid_host`; the rule is in `entrypoints.hosts`);
    - a request id (a sane client one is kept), echoed in `X-Request-ID`, bound to the log
      context, and one access line per request;
    - any exception that escaped the app becomes a 500 problem (a dependency that is down
      is the adapters' `ServiceUnavailable`, which the app's handler answers with 503);
    - security headers on every response: nosniff, no framing, no referrer, a strict CSP
      (a looser one on the docs pages, which run Swagger UI and ReDoc), and HSTS when
      `hsts_seconds` is set (production).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: list[str],
        docs_prefixes: Iterable[str],
        hsts_seconds: int = 0,
    ) -> None:
        self.app = app
        self.hosts = AllowedHosts(allowed_hosts)
        self.docs_prefixes = tuple(docs_prefixes)
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
        if hsts_seconds:
            common.append(
                (
                    b"strict-transport-security",
                    f"max-age={hsts_seconds}; includeSubDomains".encode(),
                )
            )
        self.api_headers = [*common, (b"content-security-policy", API_CSP.encode())]
        self.docs_headers = [*common, (b"content-security-policy", DOCS_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id, host = b"", None  # host: None when the request has no Host header
        for name, value in scope["headers"]:  # ASGI header names are lower-case
            if name == b"x-request-id":
                sent_id = value
            elif name == b"host":
                host = value if host is None else b""  # two Host headers: malformed
        candidate = sent_id.decode("latin-1")
        request_id = candidate if SANE_REQUEST_ID.fullmatch(candidate) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [
            (b"x-request-id", request_id.encode()),
            *(
                self.docs_headers
                if scope["path"].startswith(self.docs_prefixes)
                else self.api_headers
            ),
        ]
        status, responded = 500, False
        started_at = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                headers = message.get("headers", [])
                present = {name.lower() for name, _ in headers}
                message["headers"] = [*headers, *(h for h in extra if h[0] not in present)]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            if self.hosts.allows(host):
                await self.app(scope, receive, send_with_headers)
            else:
                await send_problem(
                    scope,
                    send_with_headers,
                    400,
                    "invalid_host",
                    "This Host header is malformed or names a host (or port) that is not served.",
                )
        except Exception as error:
            if responded:
                raise
            await self._last_resort(scope, send_with_headers, error)
        finally:
            route = scope.get("route")
            logger.info(
                "request",
                method=scope.get("method"),
                path=getattr(route, "path", None) or "<unmatched>",
                status=status,
                duration_ms=round((time.perf_counter() - started_at) * 1000, 2),
                user_id=scope["state"].get("user_id"),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    async def _last_resort(self, scope: Scope, send: Send, error: Exception) -> None:
        logger.exception("unhandled_error")
        await send_problem(scope, send, 500, "server_error", "Something went wrong on our side.")


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length or by counting a streamed body;
    431 for headers over theirs (uvicorn's httptools parser sets no limit of its own)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, max_header_bytes: int = MAX_HEADER_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(name) + len(value) for name, value in scope["headers"]) > self.max_header_bytes:
            await send_problem(
                scope,
                send,
                431,
                "request_header_fields_too_large",
                f"The request headers are larger than {self.max_header_bytes} bytes.",
            )
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_problem(scope, send, 413, "payload_too_large", self._detail())
