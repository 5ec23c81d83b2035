"""Request bodies and query parameters of the admins' user routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.json_schema import SkipJsonSchema

from application.ports.users import UserQuery
from domain.users import Role
from entrypoints.http.paging import PagingParams
from entrypoints.http.patterns import NO_NUL


class UserPatch(BaseModel):
    """Either or both; `null` is not a value. Deactivating ends every session of the
    account; neither change may leave the service without an active admin."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"role": "guest"},
                {"is_active": False},
                {"role": "admin", "is_active": True},
            ]
        },
    )

    role: Role | SkipJsonSchema[None] = None  # `null` is refused, so not in the schema
    is_active: StrictBool | SkipJsonSchema[None] = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None:
                    raise ValueError(f"'{name}' cannot be null; leave it out to keep it")
        return data


class UserListParams(PagingParams):
    """Filters combine with AND; oldest account first (ties by uid)."""

    role: Role | None = None
    is_verified: bool | None = None
    is_active: bool | None = None
    q: Annotated[
        str | None,
        Field(
            max_length=254,
            pattern=NO_NUL,
            description=(
                "Substring of the email or username, case-insensitive; `%` and `_` are literal"
            ),
        ),
    ] = None

    def query(self) -> UserQuery:
        return UserQuery(
            role=self.role, is_verified=self.is_verified, is_active=self.is_active, text=self.q
        )


UserListQuery = Annotated[UserListParams, Query()]
