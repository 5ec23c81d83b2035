"""`bookly users ...`: list accounts, change a role, switch an account off or on."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from application.ports.users import UserQuery
from application.users.administration import UserChanges
from domain.users import Role, User
from entrypoints.cli.runtime import OPERATOR, operator_command, print_json
from entrypoints.container import Container

PAGE_SIZE = 100
TABLE_COLUMNS = ("email", "username", "role", "verified", "active", "created", "uid")


def user_record(user: User) -> dict[str, Any]:
    """The API's user representation, as JSON-ready values."""
    return {
        "uid": str(user.uid),
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role.value,
        "is_verified": user.is_verified,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


def print_table(users: list[User]) -> None:
    rows = [TABLE_COLUMNS] + [
        (
            u.email,
            u.username,
            u.role.value,
            "yes" if u.is_verified else "no",
            "yes" if u.is_active else "no",
            u.created_at.date().isoformat(),
            str(u.uid),
        )
        for u in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


async def list_users(args: argparse.Namespace, container: Container) -> None:
    query = UserQuery(
        role=args.role and Role(args.role),
        is_verified=args.verified,
        is_active=args.active,
        text=args.search,
    )
    use_case = container.list_users()
    found: list[User] = []
    total = 0
    while args.limit is None or len(found) < args.limit:
        want = PAGE_SIZE if args.limit is None else min(PAGE_SIZE, args.limit - len(found))
        page = await use_case.execute(
            OPERATOR, dataclasses.replace(query, limit=want, offset=args.offset + len(found))
        )
        found.extend(page.items)
        total = page.total
        if len(page.items) < want:
            break
    if args.json:
        print_json(
            {
                "items": [user_record(u) for u in found],
                "total": total,
                "limit": args.limit,
                "offset": args.offset,
            }
        )
        return
    if found:
        print_table(found)
    print(f"{len(found)} of {total} matching accounts", file=sys.stderr)


async def _change(
    args: argparse.Namespace, container: Container, changes: UserChanges, done: str
) -> None:
    user = await container.find_user_by_email().execute(OPERATOR, args.email)
    changed = await container.change_user().execute(OPERATOR, user.uid, changes)
    if args.json:
        print_json(user_record(changed))
    else:
        print(f"{changed.email} {done}")


async def set_role(args: argparse.Namespace, container: Container) -> None:
    await _change(
        args, container, UserChanges(role=Role(args.role)), f"now has the role {args.role}"
    )


async def deactivate(args: argparse.Namespace, container: Container) -> None:
    await _change(
        args,
        container,
        UserChanges(is_active=False),
        "is deactivated; every session of the account has ended",
    )


async def activate(args: argparse.Namespace, container: Container) -> None:
    await _change(args, container, UserChanges(is_active=True), "is active")


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    roles = [role.value for role in Role]
    group = commands.add_parser(
        "users",
        help="list accounts, change roles, deactivate or activate accounts",
        description="Look after accounts. Accounts are named by email; changes act as the "
        "operator and count from the account's next request.",
    )
    sub = group.add_subparsers(dest="users_command", required=True, metavar="COMMAND")

    found = sub.add_parser(
        "list",
        help="list accounts, oldest first",
        description="List accounts, oldest first. Filters combine with AND. A table goes "
        "to standard output and the count to standard error; --json prints "
        '{"items", "total", "limit", "offset"} with the API\'s user fields.',
    )
    found.add_argument("--role", choices=roles, help="only accounts with this role")
    found.add_argument(
        "--verified",
        action=argparse.BooleanOptionalAction,
        help="only accounts whose email is verified (--no-verified: not)",
    )
    found.add_argument(
        "--active",
        action=argparse.BooleanOptionalAction,
        help="only active accounts (--no-active: only deactivated ones)",
    )
    found.add_argument(
        "-q",
        "--search",
        metavar="TEXT",
        help="substring of the email or username, case-insensitive",
    )
    found.add_argument("--limit", type=_count(1), help="at most this many (default: all)")
    found.add_argument("--offset", type=_count(0), default=0, help="skip this many first")
    found.add_argument("--json", action="store_true", help="print JSON")
    operator_command(found, list_users)

    role = sub.add_parser(
        "set-role",
        help="give an account another role",
        description="Give an account the role admin, user or guest. The last active admin "
        "cannot be demoted.",
    )
    role.add_argument("email", metavar="EMAIL")
    role.add_argument("role", metavar="ROLE", choices=roles, help=" | ".join(roles))
    role.add_argument("--json", action="store_true", help="print the account as JSON")
    operator_command(role, set_role)

    for name, action, summary, description in (
        (
            "deactivate",
            deactivate,
            "switch an account off",
            "Switch an account off: its tokens stop working at once and it cannot log in "
            "(403 account_disabled). The last active admin cannot be switched off.",
        ),
        (
            "activate",
            activate,
            "switch an account back on",
            "Switch an account back on: it can log in again; sessions from before it was "
            "switched off stay ended.",
        ),
    ):
        command = sub.add_parser(name, help=summary, description=description)
        command.add_argument("email", metavar="EMAIL")
        command.add_argument("--json", action="store_true", help="print the account as JSON")
        operator_command(command, action)
