"""FastAPI dependencies: the use cases a route needs, the caller, per-client limits.

All are `async def`, so none costs a threadpool hop; the container, not this module,
decides which adapter serves each port.
"""

from __future__ import annotations

from typing import Annotated, Any

from dependency_injector import providers
from fastapi import Depends, Request, params
from fastapi.security import OAuth2PasswordBearer

from application.accounts.sessions import Principal
from application.ports.limits import RateLimiter
from domain.errors import NotAuthenticated, TooManyRequests
from entrypoints.container import Container
from entrypoints.http.security import ClientAddress
from entrypoints.settings import Settings

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - an address, not a secret
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


_PROVIDER_NAMES = {id(provider): name for name, provider in Container.providers.items()}


def Use(provider: providers.Provider[Any]) -> Any:
    """What a route declares it needs: `use_case: Annotated[GetBook, Use(Container.get_book)]`.
    Resolved per request on the app's own container, so tests override it there
    (`container.get_book.override(...)`). FastAPI types `Depends()` as Any."""
    name = _PROVIDER_NAMES[id(provider)]

    async def provided(request: Request) -> Any:
        return getattr(request.app.state.container, name)()  # set by create_app

    provided.provider_name = name  # type: ignore[attr-defined]  # read by the tests
    return Depends(provided)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings  # set by create_app
    return settings


async def bearer_token(token: Annotated[str | None, Depends(bearer)]) -> str:
    if not token:
        raise NotAuthenticated()
    return token


class BearerPrincipal(OAuth2PasswordBearer):
    """The caller behind the request's Bearer access token, as a single dependency: the
    hot path of every authenticated request, so FastAPI solves one dependency instead of
    a chain. Being the same security scheme as `bearer` (and named like it), it documents
    itself in OpenAPI as `bearer` does."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        token = await super().__call__(request)
        if not token:
            raise NotAuthenticated()
        container: Container = request.app.state.container
        principal = await container.authenticate().execute(token)
        request.scope["state"]["user_id"] = str(principal.user.uid)
        return principal


current_principal = BearerPrincipal(
    tokenUrl=TOKEN_URL, scheme_name="OAuth2PasswordBearer", auto_error=False
)


def client_ip(request: Request) -> str:
    """The socket's peer, or the forwarded client when the peer is a trusted proxy."""
    peer = request.client.host if request.client else None
    client_address: ClientAddress = request.app.state.client_address  # set by create_app
    return client_address.of(peer, request.headers.get("x-forwarded-for"))


def limit_per_ip(bucket: str) -> params.Depends:
    """A dependency counting requests per client IP for one group of routes."""

    async def check(
        request: Request,
        limiter: Annotated[RateLimiter, Use(Container.rate_limiter)],
        settings: Annotated[Settings, Depends(get_settings)],
    ) -> None:
        if not settings.rate_limits_enabled:
            return
        state = await limiter.hit(
            f"ip:{bucket}:{client_ip(request)}", settings.ip_rate_window_seconds
        )
        if state.count > settings.ip_rate_limit:
            raise TooManyRequests(state.retry_after_seconds)

    dependency: params.Depends = Depends(check)  # FastAPI types Depends() as Any
    return dependency


PrincipalDep = Annotated[Principal, Depends(current_principal)]
