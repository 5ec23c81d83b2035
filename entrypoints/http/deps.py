"""FastAPI dependencies: the container, the caller, per-client limits.

All are `async def`, so none costs a threadpool hop; the container, not this module,
decides which adapter serves each port.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application.accounts.sessions import Principal
from domain.errors import NotAuthenticated, TooManyRequests
from entrypoints.container import Container
from entrypoints.settings import Settings

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_container(request: Request) -> Container:
    return request.app.state.container


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def bearer_token(token: Annotated[str | None, Depends(bearer)]) -> str:
    if not token:
        raise NotAuthenticated()
    return token


async def current_principal(
    request: Request,
    token: Annotated[str, Depends(bearer_token)],
    container: Annotated[Container, Depends(get_container)],
) -> Principal:
    principal = await container.authenticate().execute(token)
    request.scope["state"]["user_id"] = str(principal.user.uid)
    return principal


def client_ip(request: Request) -> str:
    """The socket's peer, or the forwarded client when the peer is a trusted proxy."""
    peer = request.client.host if request.client else None
    return request.app.state.client_address.of(peer, request.headers.get("x-forwarded-for"))


def limit_per_ip(bucket: str):
    """A dependency counting requests per client IP for one group of routes."""

    async def check(
        request: Request,
        container: Annotated[Container, Depends(get_container)],
        settings: Annotated[Settings, Depends(get_settings)],
    ) -> None:
        if not settings.rate_limits_enabled:
            return
        state = await container.rate_limiter().hit(
            f"ip:{bucket}:{client_ip(request)}", settings.ip_rate_window_seconds
        )
        if state.count > settings.ip_rate_limit:
            raise TooManyRequests(state.retry_after_seconds)

    return Depends(check)


ContainerDep = Annotated[Container, Depends(get_container)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
