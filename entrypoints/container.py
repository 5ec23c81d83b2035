"""The composition root: which adapter plays which port, decided from Settings.

Every entrypoint (HTTP, CLI, worker) builds this container; tests override its
port providers with doubles (`container.<port>.override(...)`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.argon2.hasher import Argon2PasswordHasher
from adapters.itsdangerous.link_signer import ItsdangerousLinkSigner
from adapters.jinja.renderer import JinjaMailRenderer
from adapters.jose.token_codec import JoseTokenCodec
from adapters.memory.clock import SystemClock
from adapters.memory.outbox_mailer import FileOutboxMailer
from adapters.memory.rate_limiter import MemoryRateLimiter
from adapters.memory.task_queue import InProcessTaskQueue
from adapters.redis.client import create_redis
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.token_store import RedisTokenStore
from adapters.smtp.mailer import SmtpMailer
from adapters.sqlalchemy.engine import create_engine, session_factory
from adapters.sqlalchemy.mapping import start_mappers
from adapters.sqlalchemy.token_store import SqlTokenStore
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.zxcvbn.common_passwords import ZxcvbnCommonPasswords
from application.accounts.login import LogIn
from application.accounts.mail import SEND_EMAIL_TASK, DeliverMail
from application.accounts.passwords import (
    ChangePassword,
    ConfirmPasswordReset,
    RequestPasswordReset,
)
from application.accounts.policy import AuthPolicy
from application.accounts.profile import CreateAdmin, UpdateProfile
from application.accounts.registration import (
    ResendVerification,
    SignUp,
    VerificationMails,
    VerifyEmail,
)
from application.accounts.sessions import (
    Authenticate,
    LogOut,
    LogOutEverywhere,
    RefreshSession,
    SessionIssuer,
)
from application.books.catalogue import (
    AddBook,
    DeleteBook,
    GetBook,
    ListBooks,
    ListUserBooks,
    UpdateBook,
)
from entrypoints.settings import Settings


def _engine(url: str, pool_size: int, timeout: float) -> AsyncEngine:
    start_mappers()
    return create_engine(url, pool_size=pool_size, connect_timeout=timeout)


def _redis(url: str | None, timeout: float) -> Redis | None:
    return create_redis(url, timeout=timeout) if url else None


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(_engine, config.database_url, config.database_pool_size,
                                config.dependency_timeout_seconds)
    redis = providers.Singleton(_redis, config.redis_url, config.dependency_timeout_seconds)
    sessions = providers.Singleton(session_factory, engine)
    uow = providers.Singleton(functools.partial, SqlUnitOfWork, sessions)

    token_store = providers.Selector(
        config.token_store,
        redis=providers.Singleton(RedisTokenStore, redis, clock, config.redis_key_prefix),
        sql=providers.Singleton(SqlTokenStore, sessions, clock),
    )
    rate_limiter = providers.Selector(
        config.rate_limiter,
        redis=providers.Singleton(RedisRateLimiter, redis, config.redis_key_prefix),
        memory=providers.Singleton(MemoryRateLimiter, clock),
    )
    hasher = providers.Singleton(Argon2PasswordHasher, config.argon2_time_cost,
                                 config.argon2_memory_kib, config.argon2_parallelism)
    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    token_codec = providers.Singleton(JoseTokenCodec, config.secret_key, clock)
    link_signer = providers.Singleton(ItsdangerousLinkSigner, config.secret_key, clock)

    mailer = providers.Selector(
        config.mailer,
        smtp=providers.Singleton(
            SmtpMailer, host=config.smtp_host, port=config.smtp_port,
            username=config.smtp_username, password=config.smtp_password,
            starttls=config.smtp_starttls, mail_from=config.mail_from,
            timeout=config.smtp_timeout_seconds,
        ),
        outbox=providers.Singleton(FileOutboxMailer, config.mail_outbox_dir, config.mail_from),
    )
    mail_renderer = providers.Singleton(JinjaMailRenderer)
    deliver_mail = providers.Singleton(DeliverMail, mail_renderer, mailer)
    task_queue = providers.Singleton(
        InProcessTaskQueue, providers.Dict({SEND_EMAIL_TASK: deliver_mail.provided.execute})
    )

    policy = providers.Singleton(
        AuthPolicy,
        public_url=config.public_url,
        access_token_ttl_seconds=config.access_token_ttl_seconds,
        refresh_token_ttl_seconds=config.refresh_token_ttl_seconds,
        verify_link_ttl_seconds=config.verify_link_ttl_seconds,
        reset_link_ttl_seconds=config.reset_link_ttl_seconds,
    )
    issuer = providers.Singleton(SessionIssuer, token_codec, token_store, clock, policy)
    verification_mails = providers.Singleton(VerificationMails, link_signer, task_queue, policy)

    sign_up = providers.Singleton(SignUp, uow, hasher, common_passwords, clock, task_queue,
                                  verification_mails, policy)
    verify_email = providers.Singleton(VerifyEmail, uow, link_signer, token_store, clock, policy)
    resend_verification = providers.Singleton(ResendVerification, uow, verification_mails)
    log_in = providers.Singleton(LogIn, uow, hasher, rate_limiter, issuer, clock, policy)
    authenticate = providers.Singleton(Authenticate, token_codec, token_store, uow)
    refresh_session = providers.Singleton(RefreshSession, token_codec, token_store, uow, issuer)
    log_out = providers.Singleton(LogOut, token_store)
    log_out_everywhere = providers.Singleton(LogOutEverywhere, token_store)
    update_profile = providers.Singleton(UpdateProfile, uow, clock)
    change_password = providers.Singleton(ChangePassword, uow, hasher, common_passwords,
                                          token_store, clock)
    request_password_reset = providers.Singleton(RequestPasswordReset, uow, link_signer,
                                                 task_queue, policy)
    confirm_password_reset = providers.Singleton(ConfirmPasswordReset, uow, link_signer, hasher,
                                                 common_passwords, token_store, clock, policy)
    create_admin = providers.Singleton(CreateAdmin, uow, hasher, common_passwords, clock)

    add_book = providers.Singleton(AddBook, uow, clock)
    get_book = providers.Singleton(GetBook, uow)
    list_books = providers.Singleton(ListBooks, uow)
    list_user_books = providers.Singleton(ListUserBooks, uow)
    update_book = providers.Singleton(UpdateBook, uow, clock)
    delete_book = providers.Singleton(DeleteBook, uow)


def configuration(settings: Settings) -> dict[str, object]:
    """Settings → the container's config, including which adapter plays each port."""
    values = settings.model_dump()
    values.update(
        secret_key=settings.resolved_secret_key(),
        mail_outbox_dir=Path(settings.mail_outbox_dir),
        token_store="redis" if settings.redis_url else "sql",
        rate_limiter="redis" if settings.redis_url else "memory",
        mailer="smtp" if settings.smtp_host else "outbox",
        smtp_starttls=settings.smtp_starttls,
    )
    return values


def build_container(settings: Settings) -> Container:
    container = Container()
    container.config.from_dict(configuration(settings))
    return container


async def close_resources(container: Container) -> None:
    """Finish background work, then close the connections that were opened."""
    queue = container.task_queue()
    if isinstance(queue, InProcessTaskQueue):
        await queue.drain()
    client = container.redis()
    if client is not None:
        await client.aclose()
    await container.engine().dispose()
