"""Reading the spans a test made: the SDK's in-memory exporter for this process, and an
OTLP/HTTP receiver (protobuf, as the exporter sends it) for the processes a test starts.
Both give the same plain records, so one trace can be put together from several processes.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import format_span_id, format_trace_id

# OTLP's span kinds (SPAN_KIND_SERVER, ...) as the API names them.
_OTLP_KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@dataclass(frozen=True)
class Span:
    name: str
    trace_id: str  # hex, as the logs write it
    span_id: str
    parent_id: str | None
    kind: str  # "SERVER", "CLIENT", ...
    service: str
    scope: str  # the instrumentation (tracer) that made it
    attributes: dict[str, Any] = field(default_factory=dict, compare=False)


def from_sdk(spans: Iterable[ReadableSpan]) -> list[Span]:
    records = []
    for span in spans:
        context, parent = span.get_span_context(), span.parent
        assert context is not None
        records.append(
            Span(
                name=span.name,
                trace_id=format_trace_id(context.trace_id),
                span_id=format_span_id(context.span_id),
                parent_id=format_span_id(parent.span_id) if parent else None,
                kind=span.kind.name,
                service=str(span.resource.attributes.get("service.name")),
                scope=span.instrumentation_scope.name if span.instrumentation_scope else "",
                attributes=dict(span.attributes or {}),
            )
        )
    return records


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def from_otlp(request: ExportTraceServiceRequest) -> list[Span]:
    records = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                records.append(
                    Span(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex() or None,
                        kind=_OTLP_KINDS.get(span.kind, "UNSPECIFIED"),
                        service=str(resource.get("service.name")),
                        scope=scope_spans.scope.name,
                        attributes={a.key: _value(a.value) for a in span.attributes},
                    )
                )
    return records


class OtlpReceiver:
    """What an OTLP/HTTP collector would have received at `endpoint` (`/v1/traces`)."""

    def __init__(self, port: int) -> None:
        self.endpoint = f"http://127.0.0.1:{port}"
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path == "/v1/traces":
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    with receiver._lock:
                        receiver.spans.extend(from_otlp(request))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)

    def environment(self, **variables: str) -> dict[str, str]:
        """The OTEL_ variables that make a Bookly process send its spans here, quickly."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between batches
            **variables,
        }

    def received(self) -> list[Span]:
        with self._lock:
            return list(self.spans)


@contextmanager
def otlp_receiver(port: int) -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver(port)
    thread = threading.Thread(target=receiver._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._server.shutdown()
        receiver._server.server_close()


def ancestry(span: Span, spans: Iterable[Span]) -> list[str]:
    """The names of `span`'s ancestors among `spans`, its parent first; stops at a parent
    that is not among them."""
    by_id = {s.span_id: s for s in spans}
    names = []
    current = by_id.get(span.parent_id or "")
    while current is not None:
        names.append(current.name)
        current = by_id.get(current.parent_id or "")
    return names


def one(spans: Iterable[Span], name: str) -> Span:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{len(found)} spans named {name!r}: {sorted({s.name for s in spans})}"
    return found[0]
