"""The real container with every I/O port overridden by a memory double."""

from __future__ import annotations

from dataclasses import dataclass

from dependency_injector import providers

from adapters.memory.clock import FixedClock
from adapters.memory.outbox import MemoryOutboxStore
from adapters.memory.persistence import MemoryDatabase
from adapters.memory.rate_limiter import MemoryRateLimiter
from adapters.memory.recording_mailer import RecordingMailer
from adapters.memory.security import (
    MemoryLinkSigner,
    MemoryTokenCodec,
    PlainPasswordHasher,
    SmallCommonPasswords,
)
from adapters.memory.task_queue import RecordingTaskQueue
from adapters.memory.token_store import MemoryTokenStore
from application.accounts.mail import SEND_EMAIL_TASK
from entrypoints.container import Container, configuration
from entrypoints.settings import Settings


@dataclass
class Harness:
    container: Container
    clock: FixedClock
    database: MemoryDatabase
    queue: RecordingTaskQueue
    hasher: PlainPasswordHasher
    store: MemoryTokenStore
    mailer: RecordingMailer

    def mails(self, template: str | None = None) -> list[dict]:
        """The payloads of the mail jobs committed to the outbox, oldest first."""
        jobs = [job.payload for job in self.database.outbox_jobs.values()
                if job.task_name == SEND_EMAIL_TASK]
        return [job for job in jobs if template is None or job["template"] == template]

    def last_link_token(self, template: str) -> str:
        return self.mails(template)[-1]["context"]["link"].rsplit("/", 1)[1]


def build_harness() -> Harness:
    clock = FixedClock()
    database = MemoryDatabase()
    database.clock = clock
    queue = RecordingTaskQueue()
    mailer = RecordingMailer()
    hasher = PlainPasswordHasher()
    store = MemoryTokenStore(clock)
    container = Container()
    container.config.from_dict(configuration(Settings(secret_key="x" * 40, _env_file=None)))
    for name, double in {
        "clock": clock,
        "database_uow": database.unit_of_work,
        "token_store": store,
        "rate_limiter": MemoryRateLimiter(clock),
        "hasher": hasher,
        "common_passwords": SmallCommonPasswords(),
        "token_codec": MemoryTokenCodec(clock),
        "link_signer": MemoryLinkSigner(clock),
        "task_queue": queue,
        "outbox": MemoryOutboxStore(database, clock),
        "mailer": mailer,
    }.items():
        getattr(container, name).override(providers.Object(double))
    return Harness(container, clock, database, queue, hasher, store, mailer)
