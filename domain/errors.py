"""Domain errors. Each carries the stable `error_code` of the HTTP contract.

The `kind` of an error says what sort of failure it is; the HTTP layer maps kinds
to status codes, so nothing here knows about HTTP.
"""

from __future__ import annotations

from enum import Enum


class ErrorKind(Enum):
    INVALID = "invalid"  # the request is malformed or breaks a rule
    BAD_LINK = "bad_link"  # a signed link is bad, expired or spent
    UNAUTHENTICATED = "unauthenticated"  # no usable credentials
    FORBIDDEN = "forbidden"  # known caller, not allowed
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"  # a dependency is down
    STALE = "stale"  # the caller's copy of the resource is out of date
    UNCONDITIONAL = "unconditional"  # a change was asked for without naming the copy


class DomainError(Exception):
    error_code: str = "domain_error"
    kind: ErrorKind = ErrorKind.INVALID
    default_detail: str = "The request could not be completed."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class RuleViolation(DomainError):
    """A value breaks a domain rule; `field` names the offending input."""

    error_code = "validation_error"
    kind = ErrorKind.INVALID

    def __init__(self, field: str, detail: str, rule: str = "value_error") -> None:
        self.field = field
        self.rule = rule
        super().__init__(detail)


class WeakPassword(RuleViolation):
    def __init__(self, field: str = "password") -> None:
        super().__init__(field, "This password is too common.", rule="password_too_common")


class UsernameTaken(DomainError):
    error_code = "username_taken"
    kind = ErrorKind.CONFLICT
    default_detail = "This username is already taken."


class EmailTaken(DomainError):
    """Raised by repositories; never shown to clients (signup answers 202 either way)."""

    error_code = "email_taken"
    kind = ErrorKind.CONFLICT
    default_detail = "This email is already registered."


class InvalidLink(DomainError):
    error_code = "invalid_link"
    kind = ErrorKind.BAD_LINK
    default_detail = "This link is invalid, expired or already used."


class InvalidCredentials(DomainError):
    error_code = "invalid_credentials"
    kind = ErrorKind.UNAUTHENTICATED
    default_detail = "Email or password is incorrect."


class CurrentPasswordIncorrect(DomainError):
    error_code = "invalid_credentials"
    kind = ErrorKind.FORBIDDEN
    default_detail = "The current password is incorrect."


class AccountDisabled(DomainError):
    error_code = "account_disabled"
    kind = ErrorKind.FORBIDDEN
    default_detail = "This account is disabled."


class NotAuthenticated(DomainError):
    error_code = "not_authenticated"
    kind = ErrorKind.UNAUTHENTICATED
    default_detail = "Authentication is required."


class InvalidToken(DomainError):
    error_code = "invalid_token"
    kind = ErrorKind.UNAUTHENTICATED
    default_detail = "The token is invalid or expired."


class TokenRevoked(DomainError):
    error_code = "token_revoked"
    kind = ErrorKind.UNAUTHENTICATED
    default_detail = "The token has been revoked."


class RefreshTokenRequired(DomainError):
    error_code = "refresh_token_required"
    kind = ErrorKind.UNAUTHENTICATED
    default_detail = "A refresh token is required."


class InsufficientPermissions(DomainError):
    error_code = "insufficient_permissions"
    kind = ErrorKind.FORBIDDEN
    default_detail = "You are not allowed to do this."


class AccountNotVerified(DomainError):
    error_code = "account_not_verified"
    kind = ErrorKind.FORBIDDEN
    default_detail = "Verify your email address first."


class UserNotFound(DomainError):
    error_code = "user_not_found"
    kind = ErrorKind.NOT_FOUND
    default_detail = "No such user."


class BookNotFound(DomainError):
    error_code = "book_not_found"
    kind = ErrorKind.NOT_FOUND
    default_detail = "No such book."


class ReviewNotFound(DomainError):
    error_code = "review_not_found"
    kind = ErrorKind.NOT_FOUND
    default_detail = "No such review."


class ReviewExists(DomainError):
    error_code = "review_exists"
    kind = ErrorKind.CONFLICT
    default_detail = "You have already reviewed this book; change that review instead."


class TagNotFound(DomainError):
    error_code = "tag_not_found"
    kind = ErrorKind.NOT_FOUND
    default_detail = "No such tag."


class TagExists(DomainError):
    error_code = "tag_exists"
    kind = ErrorKind.CONFLICT
    default_detail = "A tag with this name already exists."


class LastAdmin(DomainError):
    error_code = "last_admin"
    kind = ErrorKind.CONFLICT
    default_detail = "This would leave no active admin."


class InvalidCursor(DomainError):
    """A cursor that is not one this service gave out for this list, or one sent with a
    filter or sort other than its own."""

    error_code = "invalid_cursor"
    kind = ErrorKind.INVALID
    default_detail = (
        "This cursor does not continue this list: use the next_cursor of a "
        "page of the same list, with no other filter, sort or offset."
    )


class PreconditionFailed(DomainError):
    error_code = "precondition_failed"
    kind = ErrorKind.STALE
    default_detail = "The resource changed since you read it: read it again, then retry."


class PreconditionRequired(DomainError):
    error_code = "precondition_required"
    kind = ErrorKind.UNCONDITIONAL
    default_detail = "Send If-Match with the ETag of the resource as you last read it."


class TooManyRequests(DomainError):
    error_code = "too_many_requests"
    kind = ErrorKind.RATE_LIMITED
    default_detail = "Too many attempts; try again later."

    def __init__(self, retry_after_seconds: int, detail: str | None = None) -> None:
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(detail)


class ServiceUnavailable(DomainError):
    error_code = "service_unavailable"
    kind = ErrorKind.UNAVAILABLE
    default_detail = "A service this request needs is unavailable; try again shortly."

    def __init__(self, dependency: str, detail: str | None = None) -> None:
        self.dependency = dependency
        super().__init__(detail or f"The {dependency} is unavailable; try again shortly.")
