"""/health and /ready: for load balancers and orchestrators; no auth, no prefix."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request

from entrypoints.container import Container, ReadinessChecks
from entrypoints.http.deps import Use
from entrypoints.http.problems import RETRY_AFTER_UNAVAILABLE, problem
from entrypoints.http.responses import errors

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@router.get("/ready", responses=errors(503))
async def ready(
    request: Request, checks: Annotated[ReadinessChecks, Use(Container.readiness_checks)]
) -> Any:
    """200 when every configured dependency answers; 503 naming the first that does not, or
    saying that this process is shutting down (it still serves meanwhile)."""
    if request.app.state.drain.draining:
        return problem(
            request,
            503,
            "service_unavailable",
            "This process is shutting down; it still serves the requests it gets.",
            {"Retry-After": RETRY_AFTER_UNAVAILABLE},
            dependency="process",
        )
    timeout = request.app.state.settings.dependency_timeout_seconds
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), timeout)
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
