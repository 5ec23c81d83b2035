"""Sending mail through an SMTP server (aiosmtplib)."""

from __future__ import annotations

from aiosmtplib import SMTPRecipientRefused, SMTPRecipientsRefused, send

from adapters.smtp.message import build_mime_message
from application.ports.messaging import EmailMessage


class SmtpMailer:
    """`Mailer` over SMTP: one connection per message (mail is sent from background
    work, rarely). `starttls` upgrades a plain connection and requires the server to
    offer it; `use_tls` speaks TLS from the start (port 465). Raises on any failure."""

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
        mime = build_mime_message(message, self._mail_from)
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
        if refused:
            raise SMTPRecipientsRefused([
                SMTPRecipientRefused(answer.code, answer.message, recipient)
                for recipient, answer in refused.items()
            ])
