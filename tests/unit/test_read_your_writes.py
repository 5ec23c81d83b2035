"""The HTTP layer's part of read-your-writes (`entrypoints/http/read_your_writes.py`): what
floor each request's reads get, and what a write leaves behind, including when the store
of positions (Redis) cannot serve."""

from __future__ import annotations

from contextvars import ContextVar

import httpx
import pytest
from jose import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.jose.token_codec import unverified_claims
from domain.errors import ServiceUnavailable
from entrypoints.http.read_your_writes import (
    ISSUED_MARGIN_SECONDS,
    ON_PRIMARY,
    ReadYourWritesMiddleware,
)

FLOOR: ContextVar[tuple[int, float]] = ContextVar("test_floor", default=(0, float("-inf")))
ISSUED = 1_700_000_000
TOKEN = jwt.encode({"sub": "ada", "iat": ISSUED}, "any key: the signature is not checked")


class Positions:
    def __init__(self) -> None:
        self.kept: dict[str, int] = {}
        self.down = False

    async def remember(self, user: str, position: int) -> None:
        if self.down:
            raise ServiceUnavailable("redis", "down")
        self.kept[user] = max(position, self.kept.get(user, 0))

    async def floor(self, user: str) -> int:
        if self.down:
            raise ServiceUnavailable("redis", "down")
        return self.kept.get(user, 0)


async def floor_seen(request: Request) -> JSONResponse:
    status = int(request.query_params.get("status", 200))
    position, since = FLOOR.get()
    return JSONResponse({"floor": [position, repr(since)]}, status_code=status)


@pytest.fixture
def positions() -> Positions:
    return Positions()


@pytest.fixture
async def client(positions: Positions):
    app = Starlette(routes=[Route("/", floor_seen, methods=["GET", "POST"])])
    wal = iter(range(100, 1_000, 100))

    async def primary_position() -> int:
        return next(wal)

    app.add_middleware(
        ReadYourWritesMiddleware,
        positions=lambda: positions,
        primary_position=primary_position,
        claimed=unverified_claims,
        read_floor=FLOOR,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as started:
        yield started


BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def test_a_write_keeps_the_primarys_position_and_the_writers_reads_wait_for_it(
    client, positions: Positions
) -> None:
    assert (await client.get("/", headers=BEARER)).json()["floor"] == [
        0,
        repr(ISSUED + ISSUED_MARGIN_SECONDS),
    ]
    await client.post("/", headers=BEARER)
    assert positions.kept == {"ada": 100}
    await client.post("/?status=409", headers=BEARER)  # refused: nothing written
    assert positions.kept == {"ada": 100}
    assert (await client.get("/", headers=BEARER)).json()["floor"][0] == 100
    assert (await client.get("/")).json()["floor"][0] == 0  # anonymous: anywhere
    assert (await client.get("/", headers={"Authorization": "Bearer x.y"})).json()["floor"][0] == 0


async def test_when_redis_cannot_serve_the_write_is_answered_and_reads_go_to_the_primary(
    client, positions: Positions
) -> None:
    positions.down = True
    assert (await client.post("/", headers=BEARER)).status_code == 200
    position, since = ON_PRIMARY
    assert (await client.get("/", headers=BEARER)).json()["floor"] == [position, repr(since)]
