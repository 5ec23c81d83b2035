"""The user account: identity, role and the rules on its fields."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.errors import RuleViolation
from domain.text import check_single_line

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 64
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"
    GUEST = "guest"


def normalize_email(raw: str) -> str:
    """NFKC-normalise, trim and case-fold (then NFKC again, which folding may undo); the
    form in which emails are stored and compared. Folding, not lower-casing: `lower()`
    keeps sharp s and "SS" apart, and lowers a capital sigma to the final form at the end
    of a word but to the other one elsewhere."""
    email = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).strip().casefold())
    local, sep, domain = email.rpartition("@")
    if (
        not sep
        or not local
        or not domain
        or len(email) > EMAIL_MAX_LENGTH
        or any(ord(c) < 32 for c in email)
    ):  # no control (and no NUL, for PostgreSQL)
        raise RuleViolation("email", "Enter a valid email address.")
    return email


def check_username(raw: str) -> str:
    if not USERNAME_PATTERN.fullmatch(raw):
        raise RuleViolation("username", "3 to 32 characters: letters, digits, '.', '_' or '-'.")
    return raw


def check_name(field_name: str, raw: str) -> str:
    return check_single_line(field_name, raw, NAME_MAX_LENGTH)


def check_password(raw: str, field_name: str = "password") -> str:
    """Length only; passwords are never trimmed or truncated. Commonness is a port's job."""
    if not PASSWORD_MIN_LENGTH <= len(raw) <= PASSWORD_MAX_LENGTH:
        raise RuleViolation(
            field_name,
            f"Passwords have {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
            rule="password_length",
        )
    if "\x00" in raw:
        raise RuleViolation(field_name, "Passwords cannot contain NUL characters.")
    return raw


@dataclass(eq=False)
class User:
    uid: UUID
    email: str
    username: str
    first_name: str
    last_name: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    role: Role = Role.USER
    is_verified: bool = False
    is_active: bool = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.uid == self.uid

    def __hash__(self) -> int:
        return hash(self.uid)

    @property
    def can_write_content(self) -> bool:
        """Verified users and admins may create content; guests and unverified users read."""
        if not self.is_active:
            return False
        return self.role is Role.ADMIN or (self.role is Role.USER and self.is_verified)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN and self.is_active

    def touch(self, now: datetime) -> None:
        self.updated_at = now

    def change_access(
        self, now: datetime, role: Role | None = None, is_active: bool | None = None
    ) -> None:
        """An admin's (or operator's) change of role and active flag; None keeps a value."""
        if role is not None:
            self.role = Role(role)
        if is_active is not None:
            self.is_active = bool(is_active)
        self.touch(now)

    def verify_email(self, now: datetime) -> None:
        self.is_verified = True
        self.touch(now)

    def change_password_hash(self, new_hash: str, now: datetime) -> None:
        self.password_hash = new_hash
        self.touch(now)

    def rename(
        self,
        now: datetime,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> None:
        if username is not None:
            self.username = check_username(username)
        if first_name is not None:
            self.first_name = check_name("first_name", first_name)
        if last_name is not None:
            self.last_name = check_name("last_name", last_name)
        self.touch(now)
