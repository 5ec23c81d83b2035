"""CORS with Starlette's middleware, its refusals answered as problems like every error."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from entrypoints.http.middleware import send_problem

CORS_NOT_ALLOWED = "cors_not_allowed"
REFUSAL_PREFIX = b"Disallowed CORS "  # Starlette's body: "Disallowed CORS origin, method"
FRAMING_HEADERS = {b"content-type", b"content-length"}


def is_preflight(scope: Scope) -> bool:
    """As Starlette tells one: OPTIONS with an Origin and Access-Control-Request-Method."""
    if scope["method"] != "OPTIONS":
        return False
    names = {name for name, _ in scope["headers"]}
    return b"origin" in names and b"access-control-request-method" in names


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORSMiddleware, unchanged but for one answer: a preflight it refuses (an
    origin, method or header not allowed) is a 400 `text/plain`; here it is a 400
    problem+json `cors_not_allowed`, with the CORS headers Starlette put on it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_preflight(scope):
            await super().__call__(scope, receive, send)
            return
        refusal: dict[str, str] | None = None  # the refusal's headers, once it has begun
        text = b""

        async def refusals_as_problems(message: Message) -> None:
            nonlocal refusal, text
            if message["type"] == "http.response.start" and message["status"] == 400:
                refusal = {
                    name.decode("latin-1"): value.decode("latin-1")
                    for name, value in message.get("headers", [])
                    if name.lower() not in FRAMING_HEADERS
                }
            elif refusal is None:
                await send(message)
            else:
                text += message.get("body", b"")
                if not message.get("more_body", False):
                    await send_problem(
                        scope, send, 400, CORS_NOT_ALLOWED, refusal_detail(text), refusal
                    )

        await super().__call__(scope, receive, refusals_as_problems)


def refusal_detail(text: bytes) -> str:
    """Starlette names what it refused ("origin, method"); say so, in our words."""
    refused = (
        text.removeprefix(REFUSAL_PREFIX).decode("latin-1")
        if text.startswith(REFUSAL_PREFIX)
        else "origin, method or headers"
    )
    return f"This cross-origin request is not allowed: its {refused}."
