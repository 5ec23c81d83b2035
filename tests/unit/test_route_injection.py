"""Routes declare the use cases they need (`use_case: GetBookDep`); this holds every such
declaration to what the container hands over, so a signature cannot say one use case and
receive another."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings


def injections(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    """(provider name, declared type) of every `Use(...)` below `dependant`."""
    for sub in dependant.dependencies:
        name = getattr(sub.call, "provider_name", None)
        if name is not None:
            hints = typing.get_type_hints(dependant.call, include_extras=True)
            yield name, typing.get_args(hints[sub.name])[0]
        yield from injections(sub)


def provides(declared: Any, resolved: object) -> bool:
    if getattr(declared, "_is_protocol", False):  # a port: every member it names is there
        return all(hasattr(resolved, member) for member in vars(declared) if member[0] != "_")
    return isinstance(resolved, typing.get_origin(declared) or declared)


def test_every_declared_use_case_is_the_one_the_container_provides(tmp_path) -> None:
    settings = Settings(
        _env_file=None,
        secret_key="s" * 40,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bookly.db'}",
    )
    container = build_container(settings)
    app = create_app(settings, container)
    declared = [
        (f"{sorted(route.methods)} {route.path}", name, kind)
        for route in app.routes
        if isinstance(route, APIRoute)
        for name, kind in injections(route.dependant)
    ]
    assert len({route for route, _, _ in declared}) >= 35  # all but /health and GET /me
    wrong = [
        (route, name, kind)
        for route, name, kind in declared
        if not provides(kind, getattr(container, name)())
    ]
    assert wrong == []
