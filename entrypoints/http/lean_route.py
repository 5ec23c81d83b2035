"""A route whose path and query parameters are read in one pass by a pydantic model.

FastAPI resolves each parameter and each dependency on its own, and re-derives on every
request what each annotation is (a sequence? a model?): for `GET /books`, with its eight
query parameters, about 150-200 µs of a page's 850 µs of CPU, and about a third of
`GET /books/{uid}`'s. `LeanRoute` keeps everything FastAPI builds from the endpoint's
signature (the OpenAPI document, byte for byte), and serves requests itself when the
endpoint is simple enough to do so without changing any outcome:

- the endpoint is a coroutine function answering with a `Response`, and takes only path
  and query parameters of its own (under their own names) and dependencies;
- every dependency is a coroutine function without dependencies of its own that takes
  either only path and query parameters, or only the `Request`.

Parameters are validated by a pydantic model made from the very same annotations
(FastAPI's `Query` and `Path` are pydantic `FieldInfo`s, so their limits and patterns
carry over), read as FastAPI reads them (the last of repeated query names). Errors are
pydantic's own, located under "path" or "query" as FastAPI locates them, and raised as
`RequestValidationError`, so the same handler answers them. An endpoint of any other
shape gets FastAPI's own handler. `tests/api/test_lean_route.py` compares the two
handlers' answers, good and bad, on the same routes.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, create_model

Resolver = Callable[[Request], Awaitable[Any]]


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        lean = lean_handler(self.dependant, self.endpoint)
        return lean if lean is not None else super().get_route_handler()


def lean_handler(dependant: Dependant, endpoint: Callable[..., Any]
                 ) -> Callable[[Request], Awaitable[Response]] | None:
    """The lean handler for `endpoint`, or None when it would not behave as FastAPI's."""
    if not _returns_response(endpoint) or not inspect.iscoroutinefunction(endpoint):
        return None
    own = _parameters_reader(endpoint, dependant)
    if own is None:
        return None
    resolvers: list[tuple[str, Resolver]] = []
    for dependency in dependant.dependencies:
        resolver = _resolver(dependency)
        if resolver is None or dependency.name is None:
            return None
        resolvers.append((dependency.name, resolver))

    async def handle(request: Request) -> Response:
        values = own(request)
        for name, resolve in resolvers:
            values[name] = await resolve(request)
        return await endpoint(**values)

    return handle


def _parameters_model(call: Callable[..., Any], names: Iterable[str]) -> type[BaseModel]:
    """A model of `call`'s parameters `names`: the same annotations (with their `Query`
    or `Path` limits) and defaults."""
    hints = get_type_hints(call, include_extras=True)
    parameters = inspect.signature(call).parameters
    fields: dict[str, Any] = {name: (hints[name], parameters[name].default)
                              for name in names}
    return create_model(f"{call.__name__}_parameters", **fields)


def _parameters_reader(call: Callable[..., Any], dependant: Dependant
                       ) -> Callable[[Request], dict[str, Any]] | None:
    """Reads `call`'s own path and query parameters from a request, or None when it takes
    parameters of another kind (or under another name than its own)."""
    if _own_parameters(dependant) - {"path", "query"}:
        return None
    fields = [*dependant.path_params, *dependant.query_params]
    if any(field.alias != field.name for field in fields):
        return None
    path = frozenset(field.name for field in dependant.path_params)
    query = frozenset(field.name for field in dependant.query_params)
    if not fields:
        return lambda request: {}
    model = _parameters_model(call, [field.name for field in fields])

    def read(request: Request) -> dict[str, Any]:
        given = {name: value for name, value in request.query_params.items() if name in query}
        given.update((name, request.path_params[name]) for name in path
                     if name in request.path_params)
        try:
            parsed = model.model_validate(given)
        except ValidationError as error:
            raise RequestValidationError([
                {**detail, "loc": ("path" if detail["loc"][0] in path else "query",
                                   *detail["loc"])}
                for detail in error.errors(include_url=False)
            ]) from None
        return {name: getattr(parsed, name) for name in model.model_fields}

    return read


def _resolver(dependency: Dependant) -> Resolver | None:
    call = dependency.call
    if call is None or not inspect.iscoroutinefunction(call) or dependency.dependencies:
        return None
    if _own_parameters(dependency) == {"request"} and dependency.request_param_name:
        name = dependency.request_param_name

        async def with_request(request: Request) -> Any:
            return await call(**{name: request})

        return with_request
    read = _parameters_reader(call, dependency)
    if read is None:
        return None

    async def with_parameters(request: Request) -> Any:
        return await call(**read(request))

    return with_parameters


def _own_parameters(dependant: Dependant) -> set[str]:
    """The kinds of parameter `dependant` takes itself (not through its dependencies)."""
    kinds = {
        "path": dependant.path_params, "query": dependant.query_params,
        "header": dependant.header_params, "cookie": dependant.cookie_params,
        "body": dependant.body_params,
        "request": dependant.request_param_name, "websocket": dependant.websocket_param_name,
        "connection": dependant.http_connection_param_name,
        "response": dependant.response_param_name,
        "background": dependant.background_tasks_param_name,
        "scopes": dependant.security_scopes_param_name,
    }
    return {kind for kind, present in kinds.items() if present}


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    returned = get_type_hints(endpoint).get("return")
    return isinstance(returned, type) and issubclass(returned, Response)
