"""Tracing: a signup's verification mail is one trace, from the HTTP request to the SMTP
send, on both configurations; its log lines name the trace; and with no OTLP endpoint
set, nothing of OpenTelemetry's SDK is installed.

The API runs in this process with the SDK's in-memory exporter (`entrypoints.tracing.
install`); the Celery worker is a process of its own, started with OTEL_EXPORTER_OTLP_
ENDPOINT pointing at a receiver in this test, so its spans travel as in production.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from entrypoints import tracing
from tests.background.support import embedded, eventually, settled, signup
from tests.live_service import live_service, service_environment
from tests.services import free_port
from tests.traces import OtlpReceiver, Span, ancestry, from_sdk, one, otlp_receiver

pytestmark = pytest.mark.smtp

ROOT = Path(__file__).resolve().parents[2]
SIGNUP = "POST /api/v1/auth/signup"
HANDOVER = "outbox job bookly.send_email"
RUN = "run/bookly.send_email"
PUBLISH = "apply_async/bookly.send_email"
SMTP = "smtp send"
# SQL statements' spans: SQLAlchemy's instrumentation on SQLite, asyncpg's on PostgreSQL.
SQL_SCOPES = {"opentelemetry.instrumentation.sqlalchemy", "opentelemetry.instrumentation.asyncpg"}
REDIS_SCOPE = "opentelemetry.instrumentation.redis"


@pytest.fixture(scope="module")
def memory() -> Iterator[InMemorySpanExporter]:
    """The SDK installed in this process for this module, spans kept in memory. (The API
    lets a process set its tracer provider once: later modules keep this one, shut down.)"""
    exporter = InMemorySpanExporter()
    installed = tracing.install(SimpleSpanProcessor(exporter), "bookly-api")
    yield exporter
    tracing.uninstall()
    installed.provider.shutdown()


@pytest.fixture
def spans(memory: InMemorySpanExporter) -> Callable[[], list[Span]]:
    """The spans this process finished since the test began."""
    memory.clear()
    return lambda: from_sdk(memory.get_finished_spans())


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver(free_port()) as started:
        yield started


def the_request(spans: list[Span]) -> Span:
    request = one(spans, SIGNUP)
    assert request.kind == "SERVER"
    return request


def sql(spans: list[Span]) -> list[Span]:
    return [s for s in spans if s.scope in SQL_SCOPES]


def assert_sql_in_request(request: Span, spans: list[Span], scope: str, system: str) -> None:
    """The request's statements are its children, the outbox job's INSERT among them, each
    once (one instrumentation per database)."""
    in_request = [s for s in sql(spans) if s.parent_id == request.span_id]
    inserts = [s for s in in_request if "INSERT INTO outbox_jobs" in str(s.attributes)]
    assert len(inserts) == 1, in_request
    assert {(s.scope, s.attributes.get("db.system"), s.kind) for s in in_request} == {
        (scope, system, "CLIENT")
    }


def log_lines_with(text: str, output: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


async def test_embedded_a_signup_and_its_mail_are_one_trace(smtp, tmp_path, spans, capsys):
    inbox, smtp_port = smtp()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bookly.db'}"
    async with embedded(database_url, smtp_port) as api:  # the relay runs in this process
        await signup(api.client, request_id="req-traced")
        await eventually(lambda: inbox.envelopes, what="the verification mail")
        (job,) = await settled(database_url)
        await api.client.get("/api/v1/auth/verify/a-secret-token?x=1")  # a link's token
    assert job["status"] == "sent"
    finished = spans()
    (link,) = [s for s in finished if s.kind == "SERVER" and s.name != SIGNUP]
    assert "a-secret-token" not in str(link.attributes)  # the template, as in the logs
    assert link.attributes["http.route"] == "/api/v1/auth/verify/{token}"
    finished = [s for s in finished if s.trace_id != link.trace_id]

    request = the_request(finished)
    trace_id = request.trace_id
    assert job["trace_context"]["traceparent"].split("-")[1] == trace_id  # stored with the job
    handover, run, smtp_send = one(finished, HANDOVER), one(finished, RUN), one(finished, SMTP)
    assert {s.trace_id for s in (handover, run, smtp_send)} == {trace_id}
    assert handover.parent_id == request.span_id and handover.kind == "PRODUCER"
    assert run.parent_id == handover.span_id and run.kind == "CONSUMER"
    assert ancestry(smtp_send, finished) == [RUN, HANDOVER, SIGNUP]
    assert smtp_send.attributes["server.port"] == smtp_port
    assert_sql_in_request(request, finished, "opentelemetry.instrumentation.sqlalchemy", "sqlite")
    # the run's own statements (its attempt, its record of the mail sent) are in the trace
    assert any(s.parent_id == run.span_id for s in sql(finished))
    # the relay's polls are not traced: every statement belongs to the signup's trace
    assert {s.trace_id for s in sql(finished)} == {trace_id}

    output = capsys.readouterr().err
    (access,) = log_lines_with("path=/api/v1/auth/signup", output)
    assert f"trace_id={trace_id}" in access and f"span_id={request.span_id}" in access
    (sent,) = log_lines_with("mail_sent", output)
    assert f"trace_id={trace_id}" in sent and f"span_id={run.span_id}" in sent


@pytest.mark.postgres
@pytest.mark.redis
async def test_through_celery_a_signup_and_its_mail_are_one_trace(
    api_factory, smtp, processes, values, database_url, spans, receiver
):
    inbox, smtp_port = smtp()
    worker = await processes.worker(
        {**values, "smtp_port": smtp_port}, extra_env=receiver.environment()
    )
    async with api_factory(smtp_port) as api:
        await signup(api.client, request_id="req-traced")
        await eventually(lambda: inbox.envelopes, timeout=30, what="the verification mail")
        (job,) = await settled(database_url)
    assert job["status"] == "sent"
    api_spans = spans()
    worker_spans = await eventually(
        lambda: (found := receiver.received()) and any(s.name == SMTP for s in found) and found,
        what="the worker's spans",
    )

    request = the_request(api_spans)
    trace_id = request.trace_id
    assert_sql_in_request(request, api_spans, "opentelemetry.instrumentation.asyncpg", "postgresql")
    assert any(s.scope == REDIS_SCOPE and s.parent_id == request.span_id for s in api_spans)
    handover, publish = one(worker_spans, HANDOVER), one(worker_spans, PUBLISH)
    run, smtp_send = one(worker_spans, RUN), one(worker_spans, SMTP)
    assert {s.trace_id for s in (handover, publish, run, smtp_send)} == {trace_id}
    assert handover.parent_id == request.span_id  # across processes, through the outbox row
    assert (publish.parent_id, publish.kind) == (handover.span_id, "PRODUCER")
    assert (run.parent_id, run.kind) == (publish.span_id, "CONSUMER")  # through the broker
    assert ancestry(smtp_send, worker_spans) == [RUN, PUBLISH, HANDOVER]
    assert any(s.parent_id == run.span_id for s in sql(worker_spans))
    assert {s.service for s in worker_spans} == {"bookly-worker"}
    # the relay's polls are not traced: every span the worker sent is in the signup's trace
    assert {s.trace_id for s in worker_spans} == {trace_id}

    (sent,) = log_lines_with("mail_sent", worker.output())
    assert f"trace_id={trace_id}" in sent and "request_id=req-traced" in sent


async def test_bookly_serve_sends_its_spans_over_otlp_and_flushes_them_when_stopped(
    tmp_path, receiver
):
    """`bookly serve` as operators run it, the endpoint set: its spans reach the collector,
    the last of them at shutdown (the batch's timer would wait a minute)."""
    environment = service_environment(tmp_path) | receiver.environment(
        OTEL_BSP_SCHEDULE_DELAY="60000", OTEL_SERVICE_NAME="bookly-edge"
    )
    with live_service(environment, tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.base_url) as client:
            await signup(client)
        await eventually(lambda: list((tmp_path / "outbox").glob("*.eml")), what="the mail")
        assert receiver.received() == []  # batched, not sent yet
    received = receiver.received()
    request = one(received, SIGNUP)
    handover, run = one(received, HANDOVER), one(received, RUN)
    assert ancestry(run, received) == [HANDOVER, SIGNUP]
    assert {s.trace_id for s in (request, handover, run)} == {request.trace_id}
    assert {s.service for s in received} == {"bookly-edge"}  # OTEL_SERVICE_NAME honoured


def test_without_an_endpoint_nothing_is_installed_or_instrumented(tmp_path):
    """A process like `bookly serve` with OTEL_EXPORTER_OTLP_ENDPOINT unset serves a signup
    and relays its mail: the API's global tracer provider is still its no-op proxy, the
    SDK was never imported, nothing was instrumented, no job or log line names a trace."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKLY_", "OTEL_"))}
    probe = subprocess.run(
        [sys.executable, "-m", "tests.background.untraced_probe", str(tmp_path)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout.splitlines()[-1])
    assert found == {
        "tracer_provider": "ProxyTracerProvider",
        "sdk_imported": False,
        "active": False,
        "app_instrumented": False,
        "engine_listeners": 0,
        "asyncpg_wrapped": False,
        "celery_instrumented": False,
        "job_trace_context": None,
        "mails": 1,
    }
    assert "request_id=" in probe.stderr and "trace_id=" not in probe.stderr
