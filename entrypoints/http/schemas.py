"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from domain.users import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, Role
from entrypoints.http.patterns import NO_NUL, PRINTABLE_TEXT, SPECIAL_USE_DOMAINS

Password = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        pattern=NO_NUL,
        json_schema_extra={"format": "password", "writeOnly": True},
    ),
]
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,32}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE_TEXT)]
# Documented, and enforced by email-validator: no special-use domain (RFC 6761), which
# no mail can reach.
Email = Annotated[
    EmailStr, Field(max_length=254, json_schema_extra={"pattern": SPECIAL_USE_DOMAINS})
]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUpIn(RequestBody):
    email: Email
    username: Username
    first_name: Name
    last_name: Name
    password: Password

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "username": "ada",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "password": "analytical engine 1843",
                }
            ]
        },
    )


class EmailIn(RequestBody):
    email: Email


class LoginIn(RequestBody):
    email: Annotated[str, Field(max_length=320, pattern=NO_NUL)]
    password: Annotated[str, Field(max_length=PASSWORD_MAX_LENGTH)]


class ProfileIn(RequestBody):
    username: Username | None = None
    first_name: Name | None = None
    last_name: Name | None = None


class PasswordChangeIn(RequestBody):
    current_password: Annotated[str, Field(max_length=PASSWORD_MAX_LENGTH)]
    new_password: Password


class PasswordResetIn(RequestBody):
    new_password: Password
    confirm_new_password: Annotated[str, Field(max_length=PASSWORD_MAX_LENGTH)]

    @field_validator("confirm_new_password")
    @classmethod
    def _matches(cls, value: str, info: ValidationInfo) -> str:
        if "new_password" in info.data and value != info.data["new_password"]:
            raise ValueError("The two passwords differ.")
        return value


class MessageOut(BaseModel):
    message: str


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: UUID
    email: str
    username: str
    first_name: str
    last_name: str
    role: Role
    is_verified: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime
