"""The real container with every I/O port overridden by a memory double."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dependency_injector import providers

from adapters.inprocess.rate_limiter import MemoryRateLimiter
from application.accounts.mail import SEND_EMAIL_TASK
from application.accounts.registration import SignUpCommand
from application.accounts.sessions import Principal
from application.ports.messaging import EmailMessage
from domain.users import Role
from entrypoints.container import Container, configuration
from entrypoints.settings import Settings
from tests.fakes.books import MemoryBookReads
from tests.fakes.clock import FixedClock
from tests.fakes.outbox import MemoryOutboxStore
from tests.fakes.persistence import MemoryDatabase
from tests.fakes.recording_mailer import RecordingMailer
from tests.fakes.security import (
    MemoryLinkSigner,
    MemoryTokenCodec,
    PlainPasswordHasher,
    SmallCommonPasswords,
)
from tests.fakes.task_queue import RecordingTaskQueue
from tests.fakes.token_store import MemoryTokenStore

LINK_PATHS = {
    "verify_email": "/api/v1/auth/verify/",
    "password_reset": "/api/v1/auth/password-reset-confirm/",
}


@dataclass
class Harness:
    container: Container
    clock: FixedClock
    database: MemoryDatabase
    queue: RecordingTaskQueue
    hasher: PlainPasswordHasher
    store: MemoryTokenStore
    mailer: RecordingMailer
    delivered: int = 0  # jobs of `queue` already delivered

    def mails(self, template: str | None = None) -> list[dict]:
        """The payloads of the mail jobs committed to the outbox, oldest first."""
        jobs = [
            job.payload
            for job in self.database.outbox_jobs.values()
            if job.task_name == SEND_EMAIL_TASK
        ]
        return [job for job in jobs if template is None or job["template"] == template]

    async def deliver(self) -> None:
        """Relay the committed mail jobs and send them, as a worker would."""
        await self.container.outbox_relay().relay_due()
        deliver = self.container.deliver_mail()
        for job_id in self.queue.task_ids[self.delivered :]:
            await deliver.execute(UUID(str(job_id)))
        self.delivered = len(self.queue.task_ids)

    async def sent(self, template: str) -> list[EmailMessage]:
        """The mails of `template` (with a link) sent so far, oldest first; those whose
        jobs are due are sent now."""
        await self.deliver()
        return [message for message in self.mailer.sent if LINK_PATHS[template] in message.text]

    async def last_link_token(self, template: str) -> str:
        """The token of the newest link sent in a mail of `template` (sent now, if due)."""
        sent = await self.sent(template)
        assert sent, f"no {template} mail was sent"
        return sent[-1].text.split(LINK_PATHS[template], 1)[1].split()[0]


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
        "token_store": store,
        "rate_limiter": MemoryRateLimiter(clock),
        "hasher": hasher,
        "common_passwords": SmallCommonPasswords(),
        "token_codec": MemoryTokenCodec(clock),
        "link_signer": MemoryLinkSigner(clock),
        "task_queue": queue,
        "outbox": MemoryOutboxStore(database, clock),
        "book_reads": MemoryBookReads(database.unit_of_work),
        "mailer": mailer,
    }.items():
        getattr(container, name).override(providers.Object(double))
    container.database_uow.override(providers.Factory(database.unit_of_work))
    return Harness(container, clock, database, queue, hasher, store, mailer)


PASSWORD = "correct horse battery"


def signup_command(email: str = "Ada@Example.com", username: str = "ada", **fields: str):
    values = {"first_name": "Ada", "last_name": "Lovelace", "password": PASSWORD, **fields}
    return SignUpCommand(email=email, username=username, **values)


async def signed_up(
    harness: Harness, email: str = "ada@example.com", username: str = "ada", verified: bool = True
):
    """Sign up (and verify) through the use cases; returns the stored user."""
    c = harness.container
    await c.sign_up().execute(signup_command(email, username))
    if verified:
        await c.verify_email().execute(await harness.last_link_token("verify_email"))
    return next(u for u in harness.database.users.values() if u.email == email.lower())


async def principal_of(harness, email="ada@example.com", password=PASSWORD):
    pair = await harness.container.log_in().execute(email, password)
    return pair, await harness.container.authenticate().execute(pair.access_token)


async def person(harness, email, username, role=Role.USER, verified=True) -> Principal:
    user = await signed_up(harness, email, username, verified=verified)
    harness.database.users[user.uid].role = role
    return Principal(harness.database.users[user.uid], claims=None)  # type: ignore[arg-type]


async def principal(harness, email, username, role=Role.USER, verified=True) -> Principal:
    user = await signed_up(harness, email, username, verified=verified)
    harness.database.users[user.uid].role = role
    return Principal(harness.database.users[user.uid], claims=None)  # type: ignore[arg-type]
