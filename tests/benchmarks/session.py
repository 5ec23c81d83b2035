"""One benchmark run's resources: the scratch database, the Redis key prefix, the servers.
Leaving the `with` block stops the servers, drops the database and deletes the keys."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from migrations import upgrade_to_head
from tests.benchmarks import databases, dataset, profile, servers, wrk
from tests.benchmarks.load import load, login_hashes
from tests.benchmarks.measure import Endpoint, Plan
from tests.live_service import log_in
from tests.services import REDIS_URL, asyncpg_url

REFERENCES = ("starlette", "fastapi")


class Session:
    def __init__(self, workdir: Path, say: Callable[[str], None]) -> None:
        self.workdir, self.say = workdir, say
        self.name = databases.scratch_name("bookly_bench")
        self.dsn = databases.dsn_of(self.name)
        self.prefix = databases.redis_prefix("bookly-bench")
        self.servers: dict[str, servers.Server] = {}
        self.data: dataset.Dataset | None = None
        self.loaded: dict[str, object] = {}

    def __enter__(self) -> Session:
        databases.create(self.name)
        try:
            databases.check_redis()
            self.say(f"scratch database {self.name}: migrating, loading the dataset ...")
            upgrade_to_head(asyncpg_url(self.dsn))
            self.data = dataset.generate(login_hashes())
            self.loaded = {
                "load": asyncio.run(load(asyncpg_url(self.dsn), self.dsn, self.data)),
                "detail_book": str(self.data.detail_book),
                "popular_tag": self.data.popular_tag,
            }
            self.say(
                f"  loaded in {self.loaded['load']['seconds']} s: {self.loaded['load']['steps']}"
            )
            settings = servers.bookly_settings(
                asyncpg_url(self.dsn), REDIS_URL, self.prefix, self.workdir
            )
            self.servers["bookly"] = servers.start_bookly(self.workdir, settings)
            for app in REFERENCES:
                self.servers[app] = servers.start_reference(app, self.workdir)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        for server in self.servers.values():
            server.stop()
        try:
            databases.drop(self.name)
        finally:
            keys = databases.delete_keys(self.prefix)
            self.say(f"dropped {self.name}; deleted {keys} Redis keys under {self.prefix}")

    def login(self, account: int) -> str:
        return log_in(self.servers["bookly"].base, self.data.email(account), dataset.PASSWORD)

    def endpoints(self) -> list[Endpoint]:
        api = self.servers["bookly"].base + "/api/v1"
        tag = urllib.parse.quote(self.data.popular_tag)
        me = wrk.Target(f"{api}/auth/me", {"Authorization": f"Bearer {self.login(0)}"})
        storm = [f'"{self.data.email(i)}"' for i in range(1, dataset.LOGIN_ACCOUNTS)]
        login = wrk.Target(
            f"{api}/auth/login",
            lua_settings=(
                f'ACCOUNTS = {{{", ".join(storm)}}}\nTHREADS = 2\nPASSWORD = "{dataset.PASSWORD}"'
            ),
            scripts=("login.lua",),
        )
        pid = {name: server.process.pid for name, server in self.servers.items()}
        return [
            Endpoint(
                "starlette",
                "bare Starlette route (~2 KB JSON)",
                wrk.Target(self.servers["starlette"].base + "/"),
                pid["starlette"],
            ),
            Endpoint(
                "fastapi",
                "bare FastAPI route, typed return (~2 KB JSON)",
                wrk.Target(self.servers["fastapi"].base + "/"),
                pid["fastapi"],
            ),
            Endpoint(
                "book_detail",
                "GET /api/v1/books/{uid}",
                wrk.Target(f"{api}/books/{self.data.detail_book}"),
                pid["bookly"],
            ),
            Endpoint(
                "book_list",
                "GET /api/v1/books?limit=20",
                wrk.Target(f"{api}/books?limit=20"),
                pid["bookly"],
            ),
            Endpoint(
                "book_tag_list",
                f"GET /api/v1/books?tag={tag}&sort=-rating&limit=20",
                wrk.Target(f"{api}/books?tag={tag}&sort=-rating&limit=20"),
                pid["bookly"],
            ),
            Endpoint(
                "auth_me",
                "GET /api/v1/auth/me (Bearer)",
                me,
                pid["bookly"],
                refresh=lambda: me.headers.update(Authorization=f"Bearer {self.login(0)}"),
            ),
            Endpoint("auth_login", "POST /api/v1/auth/login", login, pid["bookly"]),
        ]

    def health(self) -> wrk.Target:
        return wrk.Target(self.servers["bookly"].base + "/health")

    def check(self, endpoints: list[Endpoint]) -> None:
        """One request each: every endpoint answers 200 before anything is timed."""
        for endpoint in endpoints:
            if endpoint.name == "auth_login":
                self.login(1)
                continue
            request = urllib.request.Request(endpoint.target.url, headers=endpoint.target.headers)
            with urllib.request.urlopen(request, timeout=10) as answer:
                size = len(answer.read())
            self.say(f"  {endpoint.name}: 200, {size:,} bytes")

    def profile(
        self, plan: Plan, endpoints: list[Endpoint], say: Callable[[str], None]
    ) -> dict[str, dict[str, object]]:
        found = {}
        pid = self.servers["bookly"].process.pid
        for endpoint in endpoints:
            if endpoint.name in REFERENCES:
                continue
            if endpoint.refresh is not None:
                endpoint.refresh()
            output = self.workdir / f"profile-{endpoint.name}.txt"
            load_run = wrk.start(
                endpoint.target,
                plan.script(endpoint.name),
                plan.duration + 1,
                plan.connections,
                plan.threads,
            )
            time.sleep(0.5)
            recorder = profile.record(pid, plan.duration, output)
            _, errors = recorder.communicate()
            result = wrk.finish(load_run, plan.connections)
            if recorder.returncode != 0 or not output.exists():
                say(f"  py-spy failed on {endpoint.name}: {errors.decode()[-300:]}")
                continue
            found[endpoint.name] = profile.summarise(output)
            say(f"  profiled {endpoint.name} ({result.rps:,.0f} req/s while sampled)")
        return found
