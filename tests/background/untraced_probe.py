"""Run by tests/background/test_tracing.py in a process of its own, with no OTEL_ variable
set: serves a signup and relays its mail in the embedded default, then prints (as the last
line, JSON) what OpenTelemetry this left installed. Usage: python -m ... WORKDIR"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from entrypoints.settings import Settings
from migrations import upgrade_to_head
from tests.api.support import SECRET, running
from tests.background.support import outbox, signup


async def probe(workdir: Path) -> dict[str, Any]:
    database_url = f"sqlite+aiosqlite:///{workdir / 'bookly.db'}"
    await asyncio.to_thread(upgrade_to_head, database_url)
    settings = Settings(
        _env_file=None,
        secret_key=SECRET,
        database_url=database_url,
        mail_outbox_dir=workdir / "outbox",
        allowed_hosts=["testserver"],
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    async with running(settings) as api:
        await signup(api.client, request_id="req-untraced")
        mails = await api.mails()  # relayed and run in this process
        engine = api.container.engine()

    import asyncpg
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    from entrypoints import tracing

    (job,) = await outbox(database_url)
    return {
        "tracer_provider": type(trace.get_tracer_provider()).__name__,
        "sdk_imported": "opentelemetry.sdk.trace" in sys.modules,
        "active": tracing.active() is not None,
        "app_instrumented": bool(getattr(api.app, "_is_instrumented_by_opentelemetry", False)),
        "engine_listeners": sum(
            ref() is engine.sync_engine for ref, *_ in EngineTracer._remove_event_listener_params
        ),
        "asyncpg_wrapped": hasattr(asyncpg.connection.Connection.execute, "__wrapped__"),
        "celery_instrumented": CeleryInstrumentor().is_instrumented_by_opentelemetry,
        "job_trace_context": job["trace_context"],
        "mails": len(mails),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(Path(sys.argv[1])))))
