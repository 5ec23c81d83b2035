"""`bookly create-admin`: the first admin, or an existing account made admin on purpose."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from application.accounts.profile import AdminAppointed
from entrypoints.cli.runtime import operator_command
from entrypoints.container import Container


def read_password(stream: TextIO | None = None) -> str:
    """One line of standard input, without its line ending; never trimmed otherwise."""
    return (stream or sys.stdin).readline().removesuffix("\n").removesuffix("\r")


def describe_takeover(appointed: AdminAppointed, username: str | None) -> list[str]:
    """What the operator must know when the email already had an account: somebody else
    may have signed up with it, with a password and sessions of their own."""
    before = appointed.before
    if before is None:
        return []
    state = ", ".join(
        [
            f"role {before.role.value}",
            "email verified" if before.is_verified else "email NOT verified",
            "active" if before.is_active else "deactivated",
            f"created {before.created_at:%Y-%m-%d %H:%M} UTC",
        ]
    )
    lines = [
        f"bookly: {before.email} already had an account ({state}).",
        "bookly: it is now a verified admin whose password is the one you gave; every "
        "session it had has ended, and reset links mailed before now no longer work.",
        f"bookly: it keeps its username {before.username!r} and names "
        f"({before.first_name} {before.last_name}), which whoever signed up chose: check "
        "them, and its books and reviews.",
    ]
    if username is not None and username != before.username:
        lines.append(f"bookly: --username {username} was not applied to the existing account.")
    return lines


async def create_admin(args: argparse.Namespace, container: Container) -> None:
    if not args.password_stdin:
        raise SystemExit(
            "bookly: create-admin reads the password from standard input; pass --password-stdin"
        )
    appointed = await container.create_admin().execute(args.email, read_password(), args.username)
    for line in describe_takeover(appointed, args.username):
        print(line, file=sys.stderr)
    print(f"{appointed.user.email} is an admin ({appointed.user.uid})")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser(
        "create-admin",
        help="create a verified admin, or make an existing account one",
        description="Create a verified admin with this email and the password read from "
        "standard input. When the email already has an account, that account "
        "becomes the admin: it gets this password, every session it had ends, "
        "and what it was (role, verified or not, names) is printed on standard "
        "error, so that an account somebody else signed up for is noticed.",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--username", help="for a new account (default: from the email)")
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (required)",
    )
    operator_command(admin, create_admin)
