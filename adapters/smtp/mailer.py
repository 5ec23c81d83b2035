"""Sending mail through an SMTP server (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage as MimeMessage

from aiosmtplib import (
    SMTPException,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
    send,
)
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from adapters.smtp.message import build_mime_message
from application.ports.messaging import (
    EmailMessage,
    MailDeliveryError,
    PermanentMailError,
    TransientMailError,
)

tracer = trace.get_tracer(__name__)


class SmtpTransientError(TransientMailError, SMTPException):
    """Unreachable, timed out or 4xx; still an `SMTPException` for SMTP-aware callers."""

    def __init__(self, message: str) -> None:
        SMTPException.__init__(self, message)


class SmtpPermanentError(PermanentMailError, SMTPException):
    """5xx: refused for good; still an `SMTPException` for SMTP-aware callers."""

    def __init__(self, message: str) -> None:
        SMTPException.__init__(self, message)


def classify(error: BaseException) -> MailDeliveryError:
    """5xx replies are permanent; 4xx replies, timeouts and connection trouble are not."""
    if isinstance(error, SMTPRecipientsRefused):
        codes = [refusal.code for refusal in error.recipients]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
    elif isinstance(error, SMTPResponseException):
        permanent = 500 <= error.code < 600
    else:  # SMTPConnectError, SMTPTimeoutError, SMTPServerDisconnected, OSError, ...
        permanent = False
    kind = SmtpPermanentError if permanent else SmtpTransientError
    return kind(f"{type(error).__name__}: {error}")


class SmtpMailer:
    """`Mailer` over SMTP: one connection per message (mail is sent from background
    work, rarely). `starttls` upgrades a plain connection and requires the server to
    offer it; `use_tls` speaks TLS from the start (port 465).

    Raises SmtpPermanentError (5xx) or SmtpTransientError (anything worth retrying);
    ValueError for a message that cannot be written (a header with a line break).
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_tls: bool = False,
        mail_from: str = "Bookly <no-reply@bookly.local>",
        timeout: float = 10.0,
    ) -> None:
        if starttls and use_tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._use_tls = use_tls
        self._mail_from = mail_from
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        """One message, in a span `smtp send` (a no-op unless tracing is on)."""
        mime = build_mime_message(message, self._mail_from)
        with tracer.start_as_current_span(
            "smtp send",
            kind=SpanKind.CLIENT,
            attributes={"server.address": self._host, "server.port": self._port},
        ):  # a failure is recorded on it, with its exception
            await self._send(mime)

    async def _send(self, mime: MimeMessage) -> None:
        try:
            refused, _ = await send(
                mime,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                use_tls=self._use_tls,
                timeout=self._timeout,
            )
        except (SMTPException, OSError, TimeoutError) as error:
            raise classify(error) from error
        if refused:
            raise classify(
                SMTPRecipientsRefused(
                    [
                        SMTPRecipientRefused(answer.code, answer.message, recipient)
                        for recipient, answer in refused.items()
                    ]
                )
            )
