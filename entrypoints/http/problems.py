"""RFC 9457 problem details: the one shape of every error the API returns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match

from domain.errors import DomainError, ErrorKind, RuleViolation, ServiceUnavailable, TooManyRequests

logger = structlog.get_logger("bookly.http")
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_UNAVAILABLE = "5"

STATUS_BY_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.BAD_LINK: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.STALE: 412,
    ErrorKind.UNCONDITIONAL: 428,
}
CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "insufficient_permissions",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "server_error",
    503: "service_unavailable",
}


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem_body(
    status: int, error_code: str, detail: str, instance: str, request_id: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": f"urn:bookly:problem:{error_code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "error_code": error_code,
        "request_id": request_id,
        **extra,
    }


def problem(
    request: Request,
    status: int,
    error_code: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body = problem_body(
        status,
        error_code,
        detail,
        request.url.path,
        request.scope.get("state", {}).get("request_id"),
        **extra,
    )
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """loc/msg/type only: never the input, which may be a password."""
    return [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "value_error")),
        }
        for e in errors
    ]


async def domain_error_handler(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, DomainError)
    status = STATUS_BY_KIND[error.kind]
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = RETRY_AFTER_UNAVAILABLE
        cause = type(error.__cause__).__name__ if error.__cause__ else None
        logger.warning("dependency_unavailable", dependency=error.dependency, error=cause)
    if isinstance(error, RuleViolation):
        extra["errors"] = [{"loc": ["body", error.field], "msg": error.detail, "type": error.rule}]
    return problem(request, status, error.error_code, error.detail, headers, **extra)


async def request_validation_handler(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, RequestValidationError)
    return problem(
        request,
        422,
        "validation_error",
        "The request is not valid.",
        errors=validation_errors(error.errors()),
    )


def allowed_methods(request: Request) -> str:
    """Every method served at this path (Starlette's 405 names only the first route's).

    As OpenAPI matches paths, a concrete path wins over a templated one: at
    /auth/verify/resend that is POST alone, although GET /auth/verify/{token} would also
    take the address."""
    matching = [
        route
        for route in request.app.router.routes
        if getattr(route, "methods", None) and route.matches(request.scope)[0] is not Match.NONE
    ]
    fewest = min((route.path.count("{") for route in matching), default=0)
    methods = {
        method for route in matching if route.path.count("{") == fewest for method in route.methods
    }
    return ", ".join(sorted(methods))


async def http_exception_handler(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:
        # Starlette or FastAPI could not read the body (not UTF-8, nested past the recursion
        # limit, a broken multipart form): a validation error like any malformed body.
        return problem(
            request,
            422,
            "validation_error",
            "The request is not valid.",
            errors=[
                {"loc": ["body"], "msg": "The body could not be parsed.", "type": "body_unreadable"}
            ],
        )
    code = CODE_BY_STATUS.get(error.status_code, "http_error")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 404 and detail == "Not Found":
        detail = "There is nothing at this address."
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return problem(request, error.status_code, code, detail, headers)
