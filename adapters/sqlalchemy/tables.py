"""The schema, one `MetaData` for every table; migrations must produce exactly this."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Uuid,
    func,
)

from adapters.sqlalchemy.column_types import StringEnum, UtcDateTime
from domain.users import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, Role

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Index names that the unit of work translates into domain errors.
USERS_EMAIL_INDEX = "ix_users_email"
USERS_USERNAME_INDEX = "ix_users_username_lower"

users = Table(
    "users",
    metadata,
    Column("uid", Uuid, primary_key=True),
    Column("email", String(EMAIL_MAX_LENGTH), nullable=False),
    Column("username", String(32), nullable=False),
    Column("first_name", String(NAME_MAX_LENGTH), nullable=False),
    Column("last_name", String(NAME_MAX_LENGTH), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", StringEnum(Role, length=16), nullable=False),
    Column("is_verified", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("role IN ('admin', 'user', 'guest')", name="role"),
)
# Emails are stored normalised (lower-case), so a plain unique index suffices.
Index(USERS_EMAIL_INDEX, users.c.email, unique=True)
Index(USERS_USERNAME_INDEX, func.lower(users.c.username), unique=True)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column(
        "user_uid",
        Uuid,
        ForeignKey("users.uid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("refresh_token_id", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

link_claims = Table(
    "link_claims",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)
