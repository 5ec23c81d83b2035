"""OpenAPI documentation of the problem+json error responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from entrypoints.http.problems import PROBLEM_JSON


class Problem(BaseModel):
    """RFC 9457 problem details; `error_code` is stable and documented."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    error_code: str
    request_id: str | None
    errors: list[dict[str, Any]] | None = None  # validation only: [{loc, msg, type}]


ERROR_CODES: dict[int, str] = {
    400: "`invalid_link` (bad, expired or used link), `invalid_host`, `cors_not_allowed` "
    "(a CORS preflight from an origin, or for a method or header, not allowed)",
    401: "`not_authenticated`, `invalid_token`, `token_revoked`, `invalid_credentials`, "
    "`refresh_token_required`",
    403: "`insufficient_permissions`, `account_not_verified`, `account_disabled`, "
    "`invalid_credentials` (wrong current password)",
    404: "`not_found`, `user_not_found`, `book_not_found`, `review_not_found`, `tag_not_found`",
    405: "`method_not_allowed`",
    409: "`username_taken`, `last_admin`, `review_exists`, `tag_exists`, "
    "`idempotency_key_in_use` (with `Retry-After`)",
    412: "`precondition_failed` (`If-Match` names an `ETag` the resource no longer has)",
    413: "`payload_too_large`",
    422: "`validation_error` (with `errors`), `invalid_cursor`, `idempotency_key_reused`",
    428: "`precondition_required` (`BOOKLY_REQUIRE_IF_MATCH` and no `If-Match`)",
    429: "`too_many_requests` (with `Retry-After`)",
    431: "`request_header_fields_too_large`",
    500: "`server_error`",
    503: "`service_unavailable` (with `Retry-After`)",
}


PROBLEM_SCHEMA = Problem.model_json_schema()
# The 200 of every list: its `Link` header (RFC 8288) when another page follows.
NEXT_PAGE: dict[int | str, Any] = {
    200: {
        "description": "A page",
        "headers": {
            "Link": {
                "description": 'The next page, `<...?cursor=...&limit=...>; rel="next"`, '
                "when there is one (as `next_cursor`).",
                "schema": {"type": "string"},
            }
        },
    }
}


def link(method: str, path: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to `method path`, its parameters taken from this response
    (e.g. `uid="$response.body#/uid"`): clients and schemathesis' stateful phase follow it."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {
        "operationRef": f"#/paths/{pointer}/{method.lower()}",
        "description": description,
        "parameters": parameters,
    }


def linked(status: int, description: str, **links: dict[str, Any]) -> dict[int | str, Any]:
    """The `responses=` entry of a success status that links to other operations."""
    return {status: {"description": description, "links": links}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status documented as problem+json."""
    return {
        status: {
            "description": ERROR_CODES[status],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }
