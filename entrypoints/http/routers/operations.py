"""/health and /ready: for load balancers and orchestrators; no auth, no prefix."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from entrypoints.http.deps import ContainerDep
from entrypoints.http.problems import RETRY_AFTER_UNAVAILABLE, problem
from entrypoints.http.responses import errors

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


async def _database(container: Any) -> None:
    async with container.engine().connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(container: Any) -> None:
    await container.redis().ping()


async def _broker(container: Any) -> None:
    await container.task_queue().ping()


@router.get("/ready", responses=errors(503))
async def ready(request: Request, container: ContainerDep) -> Any:
    """200 when every configured dependency answers; 503 naming the first that does not."""
    settings = request.app.state.settings
    checks = {"database": _database}
    if settings.redis_url:
        checks["redis"] = _redis
    if settings.broker_url:
        checks["broker"] = _broker
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(container), settings.dependency_timeout_seconds)
        except Exception:
            return problem(
                request,
                503,
                "service_unavailable",
                f"The {name} is unavailable.",
                {"Retry-After": RETRY_AFTER_UNAVAILABLE},
                dependency=name,
            )
    return {"status": "ready", "checks": dict.fromkeys(checks, "ok")}
