"""The composition root: which adapter plays which port, decided from Settings.

Every entrypoint (HTTP, CLI, worker) builds this container; tests override its
port providers with doubles (`container.<port>.override(...)`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.argon2.hasher import Argon2PasswordHasher
from adapters.argon2.threads import hashing_threads
from adapters.celery.client import create_celery
from adapters.celery.task_queue import CeleryTaskQueue
from adapters.files.outbox_mailer import FileOutboxMailer
from adapters.inprocess.clock import SystemClock
from adapters.inprocess.rate_limiter import MemoryRateLimiter
from adapters.inprocess.task_queue import InProcessTaskQueue
from adapters.itsdangerous.cursor_signer import ItsdangerousCursorSigner
from adapters.itsdangerous.link_signer import ItsdangerousLinkSigner
from adapters.jinja.renderer import JinjaMailRenderer
from adapters.jose.token_codec import JoseTokenCodec, unverified_claims
from adapters.redis.auth_cache import InvalidationListener, SessionCache, invalidation_channel
from adapters.redis.client import create_redis
from adapters.redis.idempotency import RedisIdempotencyStore
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.token_store import RedisTokenStore
from adapters.redis.write_positions import RedisWritePositions
from adapters.smtp.mailer import SmtpMailer
from adapters.sqlalchemy.book_reads import Rows, SqlBookReads, rows_for
from adapters.sqlalchemy.book_writes import SqlCatalogueWrites
from adapters.sqlalchemy.engine import create_engine, ping, session_factory
from adapters.sqlalchemy.idempotency import SqlIdempotencyStore
from adapters.sqlalchemy.mapping import start_mappers
from adapters.sqlalchemy.outbox import SqlOutboxStore
from adapters.sqlalchemy.replicas import (
    READ_FLOOR,
    ReplicaRows,
    Replicas,
    ReplicaUnitOfWork,
    Watching,
    position_ttl,
    replica_set,
)
from adapters.sqlalchemy.token_store import SqlTokenStore
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.zxcvbn.common_passwords import ZxcvbnCommonPasswords
from application.accounts.account_cache import ForgettingUnitOfWork
from application.accounts.account_mails import AccountMails
from application.accounts.login import LogIn
from application.accounts.mail import SEND_EMAIL_TASK, DeliverMail
from application.accounts.passwords import (
    ChangePassword,
    CheckResetLink,
    ConfirmPasswordReset,
    RequestPasswordReset,
)
from application.accounts.policy import AuthPolicy
from application.accounts.profile import CreateAdmin, UpdateProfile
from application.accounts.registration import ResendVerification, SignUp, VerifyEmail
from application.accounts.sessions import (
    Authenticate,
    LogOut,
    LogOutEverywhere,
    RefreshSession,
    SessionIssuer,
)
from application.books.bulk import ExportBooks, ImportBooks
from application.books.catalogue import (
    AddBook,
    DeleteBook,
    GetBook,
    ListBooks,
    ListUserBooks,
    UpdateBook,
)
from application.books.reviews import DeleteReview, EditReview, GetReview, ListReviews, ReviewBook
from application.books.tags import ManageTags, TagBook
from application.books.writes import WritesInUnits
from application.outbox.relay import OutboxRelay, RelayPolicy
from application.outbox.retry import RetryPolicy
from application.paging import Cursors
from application.users.administration import ChangeUser, FindUserByEmail, GetUser, ListUsers
from entrypoints.background import in_process_mail_handler
from entrypoints.links import HttpAccountLinks
from entrypoints.logging import current_request_id
from entrypoints.settings import Settings
from entrypoints.tracing import active, current_trace_context, untraced

if TYPE_CHECKING:
    from celery import Celery


def _engine(url: str, pool_size: int, timeout: float) -> AsyncEngine:
    """Connecting and waiting for a pooled connection both give up after `timeout`, so a
    database that is down or saturated is a quick 503, never a hang."""
    engine = create_engine(url, pool_size=pool_size, connect_timeout=timeout, pool_timeout=timeout)
    if (tracing := active()) is not None:
        tracing.instrument_engine(engine)
    return engine


def _replicas(
    primary: Rows, urls: list[str], max_lag: float, size: int, timeout: float
) -> Replicas | None:
    """The streaming replicas the catalogue reads on, if any are configured."""
    if not urls:
        return None
    return replica_set(
        primary,
        urls,
        max_lag,
        size=size,
        timeout=timeout,
        engine=lambda url: create_engine(
            url, pool_size=size, connect_timeout=timeout, pool_timeout=timeout, pre_ping=True
        ),
        sessions=session_factory,
    )


def _routed(primary: Rows, replicas: Replicas | None) -> Rows:
    return primary if replicas is None else ReplicaRows(replicas)


def _redis(url: str | None, timeout: float) -> Redis | None:
    if not url:
        return None
    client = create_redis(url, timeout=timeout)
    if (tracing := active()) is not None:
        tracing.instrument_redis(client)
    return client


Check = Callable[[], Awaitable[object]]
ReadinessChecks = dict[str, Check]


def _readiness_checks(
    engine: AsyncEngine, redis: Redis | None, queue: CeleryTaskQueue | None
) -> ReadinessChecks:
    """What /ready asks, by name: each configured dependency's check, which raises unless
    it answers."""
    checks: ReadinessChecks = {"database": functools.partial(ping, engine)}
    if redis is not None:
        checks["redis"] = redis.ping
    if queue is not None:
        checks["broker"] = queue.ping
    return checks


class Closed(providers.Resource[None]):
    """Open in every process that builds the container (`open_resources`); closed by
    `shutdown_resources()`. Connections inside open at first use, not at start."""


class Started(providers.Resource[None]):
    """Background work that `bookly serve` runs beside the requests; stopped by
    `shutdown_resources()` before anything it uses is closed."""


class Closable(Protocol):
    async def aclose(self) -> None: ...


class Service(Protocol):
    def start(self) -> None: ...
    async def stop(self) -> None: ...


# Each resource names the resources it relies on as its trailing arguments (`used`):
# shutdown_resources() closes a resource only after everything that relies on it.


async def _closing(resource: Closable | None, *used: None) -> AsyncIterator[None]:
    yield
    if resource is not None:
        await resource.aclose()


async def _disposing(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    await engine.dispose()


async def _shutting_down(threads: Executor) -> AsyncIterator[None]:
    yield
    threads.shutdown(wait=False, cancel_futures=True)


async def _running(
    service: Callable[[], Service], wanted: bool, *used: None
) -> AsyncIterator[None]:
    """Starts the service (made only if `wanted`) inside the running event loop. Its own
    work is not traced (an idle poll is no trace); the jobs it hands over carry the trace
    of their cause."""
    if not wanted:
        yield
        return
    running = service()
    with untraced():  # the service's task keeps the context it started in
        running.start()
    try:
        yield
    finally:
        await running.stop()


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(
        _engine, config.database_url, config.database_pool_size, config.dependency_timeout_seconds
    )
    redis = providers.Singleton(_redis, config.redis_url, config.dependency_timeout_seconds)
    sessions = providers.Singleton(session_factory, engine)
    # This worker's memory of recent session checks, and what keeps it true (Redis only).
    session_cache = providers.Singleton(SessionCache, config.session_cache_ttl)
    token_store = providers.Selector(
        config.token_store,
        redis=providers.Singleton(
            RedisTokenStore,
            redis,
            clock,
            config.redis_key_prefix,
            config.account_cache_seconds,
            session_cache,
        ),
        sql=providers.Singleton(SqlTokenStore, sessions, clock),
    )
    database_uow = providers.Factory(
        SqlUnitOfWork, sessions, request_id=current_request_id, trace_context=current_trace_context
    )
    # Every unit of work that writes a user makes the token store forget its snapshot.
    uow = providers.Singleton(ForgettingUnitOfWork, database_uow.provider, token_store)
    session_listener = providers.Singleton(
        InvalidationListener,
        redis,
        providers.Callable(invalidation_channel, config.redis_key_prefix),
        session_cache,
    )
    # The catalogue's reads: one statement each, outside any unit of work; on PostgreSQL on
    # asyncpg's pool (autocommit, no ping), on SQLite on the one engine.
    catalogue_rows = providers.Singleton(
        rows_for,
        config.database_url,
        engine,
        size=config.database_pool_size,
        timeout=config.dependency_timeout_seconds,
    )
    # With replicas (BOOKLY_DATABASE_REPLICA_URLS): reads of the catalogue that may be a
    # little behind the primary (never behind the reader's own writes) go to them.
    replicas = providers.Singleton(
        _replicas,
        catalogue_rows,
        config.database_replica_urls,
        config.replica_max_lag_seconds,
        config.database_pool_size,
        config.dependency_timeout_seconds,
    )
    write_positions = providers.Singleton(
        RedisWritePositions, redis, config.redis_key_prefix, config.write_position_ttl
    )
    read_floor = providers.Object(READ_FLOOR)  # the floor of this request's reads
    claimed = providers.Object(unverified_claims)  # whose request it says it is, since when
    book_reads = providers.Singleton(
        SqlBookReads, providers.Singleton(_routed, catalogue_rows, replicas)
    )
    read_uow = providers.Selector(
        config.reads,
        primary=uow,
        replicas=providers.Factory(ReplicaUnitOfWork, sessions, replicas).provider,
    )
    # The catalogue's hot writes (a book, a review): on PostgreSQL one statement each on
    # the same pool, elsewhere in a unit of work.
    catalogue_writes = providers.Selector(
        config.catalogue_writes,
        statements=providers.Singleton(SqlCatalogueWrites, catalogue_rows),
        units=providers.Singleton(WritesInUnits, uow),
    )

    # The first answers to creating requests sent with an Idempotency-Key, for their retries.
    idempotency_store = providers.Selector(
        config.token_store,
        redis=providers.Singleton(RedisIdempotencyStore, redis, config.redis_key_prefix),
        sql=providers.Singleton(SqlIdempotencyStore, sessions, clock),
    )
    rate_limiter = providers.Selector(
        config.rate_limiter,
        redis=providers.Singleton(RedisRateLimiter, redis, config.redis_key_prefix),
        memory=providers.Singleton(MemoryRateLimiter, clock),
    )
    argon2_threads = providers.Singleton(
        hashing_threads, config.argon2_threads, config.argon2_idle_priority
    )
    hasher = providers.Singleton(
        Argon2PasswordHasher,
        config.argon2_time_cost,
        config.argon2_memory_kib,
        config.argon2_parallelism,
        executor=argon2_threads,
    )
    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    token_codec = providers.Singleton(JoseTokenCodec, config.secret_key, clock)
    link_signer = providers.Singleton(ItsdangerousLinkSigner, config.secret_key, clock)
    cursors = providers.Singleton(
        Cursors, providers.Singleton(ItsdangerousCursorSigner, config.secret_key)
    )
    policy = providers.Singleton(
        AuthPolicy,
        access_token_ttl_seconds=config.access_token_ttl_seconds,
        refresh_token_ttl_seconds=config.refresh_token_ttl_seconds,
        verify_link_ttl_seconds=config.verify_link_ttl_seconds,
        reset_link_ttl_seconds=config.reset_link_ttl_seconds,
    )

    mailer = providers.Selector(
        config.mailer,
        smtp=providers.Singleton(
            SmtpMailer,
            host=config.smtp_host,
            port=config.smtp_port,
            username=config.smtp_username,
            password=config.smtp_password,
            starttls=config.smtp_starttls,
            mail_from=config.mail_from,
            timeout=config.smtp_timeout_seconds,
        ),
        outbox=providers.Singleton(FileOutboxMailer, config.mail_outbox_dir, config.mail_from),
    )
    mail_renderer = providers.Singleton(JinjaMailRenderer)
    account_links = providers.Singleton(HttpAccountLinks, config.public_url)
    account_mails = providers.Singleton(AccountMails, uow, link_signer, policy, account_links)
    # Background work: jobs wait in the outbox; the relay hands them to the task queue,
    # in-process (the embedded default) or Celery's broker (BOOKLY_BROKER_URL).
    outbox = providers.Singleton(SqlOutboxStore, sessions, clock)
    retry_policy = providers.Singleton(
        RetryPolicy,
        config.mail_max_attempts,
        config.mail_retry_base_seconds,
        config.mail_retry_max_seconds,
    )
    deliver_mail = providers.Singleton(
        DeliverMail,
        outbox,
        mail_renderer,
        mailer,
        retry_policy,
        config.task_lease_seconds,
        account_mails,
    )
    celery_app = providers.Singleton(
        create_celery,
        config.broker_url,
        connect_timeout=config.dependency_timeout_seconds,
        visibility_timeout=config.broker_visibility_timeout_seconds,
    )
    task_queue = providers.Selector(
        config.task_queue,
        in_process=providers.Singleton(
            InProcessTaskQueue,
            providers.Dict(
                {
                    SEND_EMAIL_TASK: providers.Singleton(
                        in_process_mail_handler, deliver_mail, config.task_soft_time_limit_seconds
                    )
                }
            ),
        ),
        celery=providers.Singleton(CeleryTaskQueue, celery_app, config.dependency_timeout_seconds),
    )
    relay_policy = providers.Singleton(
        RelayPolicy,
        poll_seconds=config.outbox_poll_seconds,
        max_backoff_seconds=config.relay_max_backoff_seconds,
        redispatch_after_seconds=config.outbox_redispatch_after_seconds,
        retention_seconds=config.outbox_retention_seconds,
    )
    outbox_relay = providers.Singleton(OutboxRelay, outbox, task_queue, clock, relay_policy)

    issuer = providers.Singleton(SessionIssuer, token_codec, token_store, clock, policy)

    sign_up = providers.Singleton(SignUp, uow, hasher, common_passwords, clock, account_links)
    verify_email = providers.Singleton(VerifyEmail, uow, link_signer, token_store, clock, policy)
    resend_verification = providers.Singleton(ResendVerification, uow)
    log_in = providers.Singleton(LogIn, uow, hasher, rate_limiter, issuer, clock, policy)
    authenticate = providers.Singleton(Authenticate, token_codec, token_store, uow)
    refresh_session = providers.Singleton(RefreshSession, token_codec, token_store, uow, issuer)
    log_out = providers.Singleton(LogOut, token_store)
    log_out_everywhere = providers.Singleton(LogOutEverywhere, token_store)
    update_profile = providers.Singleton(UpdateProfile, uow, clock)
    change_password = providers.Singleton(
        ChangePassword, uow, hasher, common_passwords, token_store, clock
    )
    request_password_reset = providers.Singleton(RequestPasswordReset, uow)
    check_reset_link = providers.Singleton(CheckResetLink, uow, link_signer, policy)
    confirm_password_reset = providers.Singleton(
        ConfirmPasswordReset, uow, link_signer, hasher, common_passwords, token_store, clock, policy
    )
    create_admin = providers.Singleton(
        CreateAdmin, uow, hasher, common_passwords, token_store, clock
    )
    list_users = providers.Singleton(ListUsers, uow, cursors)
    get_user = providers.Singleton(GetUser, uow)
    find_user_by_email = providers.Singleton(FindUserByEmail, uow)
    change_user = providers.Singleton(ChangeUser, uow, token_store, clock)

    add_book = providers.Singleton(AddBook, uow, catalogue_writes, clock)
    get_book = providers.Singleton(GetBook, book_reads)
    list_books = providers.Singleton(ListBooks, book_reads, cursors)
    list_user_books = providers.Singleton(ListUserBooks, read_uow, book_reads, cursors)
    update_book = providers.Singleton(UpdateBook, uow, clock)
    delete_book = providers.Singleton(DeleteBook, uow)
    import_books = providers.Singleton(ImportBooks, uow, clock)
    export_books = providers.Singleton(ExportBooks, uow)
    review_book = providers.Singleton(ReviewBook, catalogue_writes, clock)
    edit_review = providers.Singleton(EditReview, uow, clock)
    delete_review = providers.Singleton(DeleteReview, uow)
    get_review = providers.Singleton(GetReview, read_uow)
    list_reviews = providers.Singleton(ListReviews, read_uow, cursors)
    manage_tags = providers.Singleton(ManageTags, uow, clock, cursors, reads=read_uow)
    tag_book = providers.Singleton(TagBook, uow, clock)
    readiness_checks = providers.Singleton(
        _readiness_checks,
        engine,
        redis,
        providers.Selector(config.task_queue, in_process=providers.Object(None), celery=task_queue),
    )

    # What the process opens and must close, and the work `bookly serve` runs beside the
    # requests: the embedded default relays its outbox here (with a broker, the Celery
    # worker does), and with Redis each worker listens for session invalidations.
    database_open = Closed(_disposing, engine)
    catalogue_pool_open = Closed(_closing, catalogue_rows)
    redis_open = Closed(_closing, redis)
    hashing_open = Closed(_shutting_down, argon2_threads)
    task_queue_open = Closed(_closing, task_queue, database_open, redis_open, hashing_open)
    replicas_open = Closed(_closing, replicas)
    replicas_watched = Started(
        _running,
        providers.Factory(Watching, replicas).provider,
        config.reads_on_replicas,
        replicas_open,
    )
    relay_running = Started(
        _running, outbox_relay.provider, config.relay_in_process, task_queue_open, database_open
    )
    listener_running = Started(
        _running, session_listener.provider, config.session_cache_ttl.as_(bool), redis_open
    )


def configuration(settings: Settings) -> dict[str, object]:
    """Settings → the container's config, including which adapter plays each port."""
    values = settings.model_dump()
    values.update(
        secret_key=settings.resolved_secret_key(),
        mail_outbox_dir=Path(settings.mail_outbox_dir),
        token_store="redis" if settings.redis_url else "sql",
        catalogue_writes="units" if settings.is_sqlite else "statements",
        rate_limiter="redis" if settings.redis_url else "memory",
        mailer="smtp" if settings.smtp_host else "outbox",
        smtp_starttls=settings.smtp_starttls,
        task_queue="celery" if settings.broker_url else "in_process",
        relay_in_process=not settings.broker_url,
        reads="replicas" if settings.database_replica_urls else "primary",
        reads_on_replicas=bool(settings.database_replica_urls),
        write_position_ttl=position_ttl(settings.replica_max_lag_seconds),
        task_lease_seconds=settings.task_lease_seconds,
        relay_max_backoff_seconds=min(10.0, settings.outbox_poll_seconds * 10),
        outbox_retention_seconds=settings.outbox_retention_days * 86_400,
        # a worker's copy of an account never outlives the copy in Redis
        session_cache_ttl=min(settings.session_cache_seconds, settings.account_cache_seconds)
        if settings.redis_url
        else 0,
    )
    return values


def broker_app(settings: Settings, **conf: Any) -> Celery:
    """A Celery app on the configured broker: the worker's and Flower's (the API's task
    queue has the container's own, `celery_app`)."""
    if not settings.broker_url:
        raise ValueError("set BOOKLY_BROKER_URL (e.g. redis://localhost:6379/1) to run workers")
    return create_celery(
        settings.broker_url,
        connect_timeout=settings.dependency_timeout_seconds,
        visibility_timeout=settings.broker_visibility_timeout_seconds,
        **conf,
    )


def build_container(settings: Settings) -> Container:
    start_mappers()  # once, before any entity is made: an entity made before is not mapped
    container = Container()
    container.config.from_dict(configuration(settings))
    return container


async def open_resources(container: Container, *, serving: bool = False) -> None:
    """Open what the process will have to close; `serving` (the HTTP server) also starts
    its background work. Call inside the event loop the process runs on; pair with
    `close_resources`."""
    opened = container.init_resources(providers.BaseResource if serving else Closed)
    if opened is not None:
        await opened


async def close_resources(container: Container) -> None:
    """Stop the background work (running jobs finish; jobs not yet run wait in the outbox
    for the next start), then close the connections, each after what relies on it."""
    closed = container.shutdown_resources()
    if closed is not None:
        await closed
