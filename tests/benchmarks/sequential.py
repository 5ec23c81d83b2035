"""One client sending one request after another on one keep-alive connection: what a
request costs with nothing else in flight, as p50 and p90 of many samples. For telling how
a page's cost grows with the catalogue, not how much load the service takes."""

from __future__ import annotations

import http.client
import json
import statistics
import time
import urllib.parse
from dataclasses import dataclass, field

from tests.benchmarks import cpu


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body)


class Client:
    """A keep-alive HTTP/1.1 connection to one server (opened again if the server closes
    it)."""

    def __init__(self, base: str, timeout: float = 60.0) -> None:
        parsed = urllib.parse.urlsplit(base)
        self._host, self._port, self._timeout = parsed.hostname, parsed.port, timeout
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout
                )
            started = time.perf_counter()
            try:
                self._connection.request("GET", path, headers=headers or {})
                response = self._connection.getresponse()
                body = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - started
            if response.will_close:
                self.close()
            return Answer(
                response.status, {k.lower(): v for k, v in response.getheaders()}, body, seconds
            )
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bytes: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # per request: see cpu.usage

    @property
    def p50_ms(self) -> float:
        return round(statistics.median(self.samples_ms), 3)

    @property
    def p90_ms(self) -> float:
        if len(self.samples_ms) < 2:
            return round(self.samples_ms[0], 3)
        return round(statistics.quantiles(self.samples_ms, n=10, method="inclusive")[-1], 3)

    def summary(self) -> dict[str, object]:
        return {
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "samples": len(self.samples_ms),
            "statuses": self.statuses,
            "bytes": self.bytes,
            "cpu": self.cpu,
        }


@dataclass
class Budget:
    """How many requests time one path: `warmup` first, untimed; then until `most` samples
    or `seconds` have passed, but at least `least` samples."""

    warmup: int = 5
    most: int = 200
    least: int = 15
    seconds: float = 3.0


def time_path(
    client: Client,
    path: str,
    headers: dict[str, str],
    budget: Budget,
    server_pid: int,
    database: str,
) -> Timing:
    for _ in range(budget.warmup):
        client.get(path, headers)
    timing = Timing()
    before = cpu.snapshot(server_pid, database)
    deadline = time.perf_counter() + budget.seconds
    while len(timing.samples_ms) < budget.most and (
        len(timing.samples_ms) < budget.least or time.perf_counter() < deadline
    ):
        answer = client.get(path, headers)
        timing.samples_ms.append(answer.seconds * 1000)
        timing.statuses[answer.status] = timing.statuses.get(answer.status, 0) + 1
        timing.bytes = len(answer.body)
    timing.cpu = cpu.usage(before, cpu.snapshot(server_pid, database), len(timing.samples_ms))
    return timing
