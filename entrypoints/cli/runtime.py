"""How operator commands run: on a container, as the operator, failing in one line.

A command is an `async def action(args, container)`. It runs on `args.container` when
the caller passed one (tests pass the memory harness's), or else on a container built
from the settings and closed afterwards. It acts as `OPERATOR`: the use cases' actor
for someone at the server's shell, with no token and no user account behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from application.permissions import Operator
from domain.errors import DomainError
from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.settings import Settings

OPERATOR = Operator("bookly command line")
EXIT_INTERRUPTED = 130

Action = Callable[[argparse.Namespace, Container], Awaitable[None]]


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise SystemExit(f"bookly: invalid configuration: {reasons}") from None


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


async def perform(args: argparse.Namespace) -> None:
    """Run `args.action`; any failure becomes SystemExit with a one-line reason."""
    container: Container | None = getattr(args, "container", None)
    owned = container is None
    if container is None:
        container = build_container(load_settings())
        await open_resources(container)
    try:
        await args.action(args, container)
    except DomainError as error:  # ServiceUnavailable included: the adapters say it
        raise SystemExit(f"bookly: {error.detail}") from None
    except Exception as error:
        raise SystemExit(f"bookly: failed: {one_line(error)}") from None
    finally:
        if owned:
            await close_resources(container)


def run_operator_command(args: argparse.Namespace) -> None:
    """The `handler` of every operator command: `perform` in a fresh event loop."""
    try:
        asyncio.run(perform(args))
    except KeyboardInterrupt:
        print("bookly: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None


def operator_command(parser: argparse.ArgumentParser, action: Action) -> None:
    parser.set_defaults(handler=run_operator_command, action=action)
