"""Reads on a real PostgreSQL streaming replica (`pg_basebackup -R` of a private primary,
both on free ports), through the whole HTTP stack, with read-your-writes.

A paused replica (`pg_wal_replay_pause()`) shows where a read went: a book written after
the pause exists only on the primary, so an anonymous read that finds no book was served
by the replica, and the writer, who must see it, was served by the primary.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from adapters.jose.token_codec import unverified_claims
from adapters.sqlalchemy.replicas import Replica
from entrypoints.http.read_your_writes import ISSUED_MARGIN_SECONDS
from entrypoints.settings import Settings
from migrations import upgrade_to_head
from tests.api.support import SECRET, Api, bearer, running, writer
from tests.integration.sql_fixtures import truncate_all
from tests.services import PrivateCluster, eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

BOOK = {
    "title": "The Left Hand of Darkness",
    "author": "Ursula K. Le Guin",
    "publisher": "Ace",
    "published_date": "1969-03-01",
    "page_count": 286,
    "language": "en",
}


class Streaming:
    def __init__(self, primary: PrivateCluster, replica: PrivateCluster) -> None:
        self.primary, self.replica = primary, replica

    async def on_replica(self, sql: str) -> object:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.replica.port, user="postgres"
        )
        try:
            return await connection.fetchval(sql)
        finally:
            await connection.close()

    async def pause(self) -> None:
        await self.on_replica("SELECT pg_wal_replay_pause()")

    async def resume(self) -> None:
        await self.on_replica("SELECT pg_wal_replay_resume()")


@pytest.fixture(scope="module")
def streaming() -> Iterator[Streaming]:
    folder = Path(tempfile.mkdtemp(prefix="bookly-pg-"))
    shutil.chown(folder, "postgres", "postgres")  # the postgres user must reach it
    try:
        primary = PrivateCluster(folder / "primary")
        primary.start()
        try:
            upgrade_to_head(primary.url)
            replica = PrivateCluster(folder / "replica", standby_of=primary)
            replica.start()
            try:
                yield Streaming(primary, replica)
            finally:
                replica.stop_quietly()
        finally:
            primary.stop_quietly()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def service(
    streaming: Streaming, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator:
    """`async with service(max_lag) as api:` an API process (its replica checks running)
    on the primary and the replica, on an empty catalogue."""
    from adapters.sqlalchemy.engine import create_engine

    await streaming.resume()

    @contextlib.asynccontextmanager
    async def start(max_lag: float = 30.0) -> AsyncIterator[Api]:
        settings = Settings(
            _env_file=None,
            secret_key=SECRET,
            allowed_hosts=["testserver"],
            mail_outbox_dir=tmp_path / "outbox",
            ip_rate_limit=10_000,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            database_url=streaming.primary.url,
            database_replica_urls=[streaming.replica.url],
            replica_max_lag_seconds=max_lag,
            redis_url=redis_url,
            redis_key_prefix=redis_prefix,
        )
        async with running(settings, serving=True) as api:
            yield api

    engine = create_engine(streaming.primary.url)
    try:
        await truncate_all(engine)
        yield start
    finally:
        await engine.dispose()
        await streaming.resume()


def the_replica(api: Api) -> Replica:
    return api.container.replicas().replicas[0]


async def caught_up(api: Api, token: str | None = None) -> None:
    """Until this process's checks found the replica level with the primary as of now, and
    as of the moment `token`'s reads must see (a little after it was issued)."""
    since = time.time()
    if token is not None:
        since = max(since, unverified_claims(token)[1] + ISSUED_MARGIN_SECONDS)
    floor = (await api.container.replicas().position(), since)
    replica = the_replica(api)
    await eventually(
        lambda: api.container.replicas().choose(floor) is replica, "the replica caught up"
    )


async def add_book(api: Api, token: str, title: str = BOOK["title"]) -> str:
    response = await api.client.post(
        "/api/v1/books", json={**BOOK, "title": title}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    return response.json()["uid"]


async def test_anonymous_reads_go_to_the_replica_and_a_writer_reads_its_writes(
    service, streaming: Streaming
) -> None:
    async with service() as api, service() as other_process:
        token, user = await writer(api)
        await caught_up(api, token)
        await caught_up(other_process, token)
        await streaming.pause()

        uid = await add_book(api, token)
        review = await api.client.post(
            f"/api/v1/books/{uid}/reviews",
            json={"rating": 5, "review_text": "Kemmer."},
            headers=bearer(token),
        )
        assert review.status_code == 201, review.text

        # The writer, on either process, reads what it wrote: the primary answers.
        for reader in (api, other_process):
            book = await reader.client.get(f"/api/v1/books/{uid}", headers=bearer(token))
            assert book.status_code == 200, book.text
            assert book.json()["review_count"] == 1
            reviews = await reader.client.get(f"/api/v1/books/{uid}/reviews", headers=bearer(token))
            assert [r["uid"] for r in reviews.json()["items"]] == [review.json()["uid"]]
            mine = await reader.client.get(f"/api/v1/users/{user}/books", headers=bearer(token))
            assert [b["uid"] for b in mine.json()["items"]] == [uid]

        # Anyone else reads on the paused replica (within its allowed lag): not there yet.
        assert (await api.client.get(f"/api/v1/books/{uid}")).status_code == 404
        assert (await api.client.get(f"/api/v1/books/{uid}/reviews")).status_code == 404
        assert (await api.client.get(f"/api/v1/users/{user}/books")).json()["items"] == []
        assert (await api.client.get(f"/api/v1/reviews/{review.json()['uid']}")).status_code == 404

        await streaming.resume()
        await caught_up(api)
        assert (await api.client.get(f"/api/v1/books/{uid}")).status_code == 200


async def test_a_user_always_reads_back_the_book_it_just_added(
    service, streaming: Streaming
) -> None:
    """Replication running, and paused every third book: the writer's read never misses."""
    async with service() as api:
        token, user = await writer(api)
        await caught_up(api, token)
        for round_ in range(30):
            if round_ % 3 == 0:
                await (streaming.pause() if round_ % 6 == 0 else streaming.resume())
            uid = await add_book(api, token, title=f"Book {round_}")
            response = await api.client.get(f"/api/v1/books/{uid}", headers=bearer(token))
            assert response.status_code == 200, (round_, response.text)
            newest = await api.client.get(
                f"/api/v1/users/{user}/books?limit=1", headers=bearer(token)
            )
            assert [b["uid"] for b in newest.json()["items"]] == [uid], round_


async def test_a_replica_lagging_past_the_limit_is_skipped(service, streaming: Streaming) -> None:
    async with service(max_lag=1.0) as api:
        token, _ = await writer(api)
        await caught_up(api)
        await streaming.pause()
        uid = await add_book(api, token)
        replica = the_replica(api)
        # It still answers its checks, but falls behind: reads leave it within the limit.
        took = await asyncio.wait_for(_until_found(api, uid), timeout=5)
        assert took >= 0
        assert replica.well
        assert api.container.replicas().choose() is None

        await streaming.resume()
        await eventually(lambda: api.container.replicas().choose() is replica, "back in use")


async def _until_found(api: Api, uid: str) -> int:
    attempts = 0
    while (await api.client.get(f"/api/v1/books/{uid}")).status_code != 200:
        attempts += 1
        await asyncio.sleep(0.05)
    return attempts


async def test_a_stopped_replica_is_skipped_without_a_failed_read(
    service, streaming: Streaming
) -> None:
    async with service() as api:
        token, user = await writer(api)
        uid = await add_book(api, token)
        await caught_up(api)
        reads = [
            f"/api/v1/books/{uid}",
            "/api/v1/books",
            f"/api/v1/books/{uid}/reviews",
            f"/api/v1/users/{user}/books",
            "/api/v1/tags",
        ]
        for path in reads:  # the replica's pools hold connections now
            assert (await api.client.get(path)).status_code == 200, path

        streaming.replica.stop()
        try:
            for path in reads:
                # Each read as the first after the stop, before anything noticed it.
                the_replica(api).well = True
                response = await api.client.get(path)
                assert response.status_code == 200, (path, response.text)
            assert (await api.client.get(f"/api/v1/books/{uid}")).json()["uid"] == uid
            assert not the_replica(api).well
        finally:
            streaming.replica.start()
        await caught_up(api)
        assert api.container.replicas().choose() is the_replica(api)


async def test_a_new_user_reads_what_it_did_before_logging_in(service, streaming) -> None:
    """Signing up and confirming the email carry no token; the session that follows still
    reads on a server that has them."""
    async with service() as api:
        await caught_up(api)
        await streaming.pause()
        token, user = await writer(api, "new@example.com", "newcomer")
        mine = await api.client.get(f"/api/v1/users/{user}/books", headers=bearer(token))
        assert mine.status_code == 200, mine.text
        assert (await api.client.get(f"/api/v1/users/{user}/books")).status_code == 404
