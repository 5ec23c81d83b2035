"""Pure ASGI middleware: request ids, access log, last-resort errors, body limit, hosts."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.problems import PROBLEM_JSON, RETRY_AFTER_UNAVAILABLE, problem_body

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_HEADER_BYTES = 16 * 1024  # all names and values together, as Node.js allows
logger = structlog.get_logger("bookly.http")


async def send_problem(
    scope: Scope, send: Send, status: int, code: str, detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    request_id = scope.get("state", {}).get("request_id")
    body = json.dumps(problem_body(status, code, detail, scope.get("path", ""),
                                   request_id)).encode()
    raw = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Gives every request an id (a sane client one is kept), logs one line per request,
    and turns any exception that escaped the app into a 503 or 500 problem."""

    def __init__(self, app: ASGIApp, is_unavailable: Callable[[BaseException], bool]) -> None:
        self.app = app
        self.is_unavailable = is_unavailable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict((k.lower(), v) for k, v in scope["headers"]).get(b"x-request-id", b"")
        candidate = sent.decode("latin-1")
        request_id = candidate if SANE_REQUEST_ID.fullmatch(candidate) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = {"code": 500, "started": False}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if status["started"]:
                raise
            if self.is_unavailable(error):
                logger.warning("dependency_unavailable", error=type(error).__name__)
                status["code"] = 503
                await send_problem(scope, send_with_id, 503, "service_unavailable",
                                   "A service this request needs is unavailable; try again "
                                   "shortly.", {"Retry-After": RETRY_AFTER_UNAVAILABLE})
            else:
                logger.exception("unhandled_error")
                await send_problem(scope, send_with_id, 500, "server_error",
                                   "Something went wrong on our side.")
        finally:
            route = scope.get("route")
            logger.info(
                "request", method=scope.get("method"),
                path=getattr(route, "path", None) or "<unmatched>",
                status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                user_id=scope["state"].get("user_id"),
            )
            structlog.contextvars.unbind_contextvars("request_id")


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length or by counting a streamed body;
    431 for headers over theirs (uvicorn's httptools parser sets no limit of its own)."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 max_header_bytes: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(name) + len(value) for name, value in scope["headers"]) \
                > self.max_header_bytes:
            await send_problem(scope, send, 431, "request_header_fields_too_large",
                               f"The request headers are larger than {self.max_header_bytes}"
                               " bytes.")
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


class HostCheckMiddleware:
    """Only the configured Host names are served (400 `invalid_host` otherwise)."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed_hosts}
        self.any_host = "*" in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.any_host:
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.strip("[]") in self.allowed or name in self.allowed:
            await self.app(scope, receive, send)
            return
        await send_problem(scope, send, 400, "invalid_host", "This host name is not served.")

