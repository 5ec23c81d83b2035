"""Turning the application's `EmailMessage` into a MIME message (stdlib `email`)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from application.ports.messaging import EmailMessage


def _domain_of(mail_from: str) -> str:
    _, address = parseaddr(mail_from)
    return address.rpartition("@")[2] or "bookly.local"


def build_mime_message(
    message: EmailMessage, mail_from: str, *, now: datetime | None = None
) -> MimeMessage:
    """Plain text, plus an HTML alternative when the message has one.

    Header values with line breaks are refused (ValueError), so no caller can inject
    headers through a subject or an address.
    """
    mime = MimeMessage(policy=SMTP)
    mime["From"] = mail_from
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    # An explicit domain: make_msgid would otherwise look up this host's FQDN. A message
    # with an idempotency key keeps one Message-ID however often it is sent.
    domain = _domain_of(mail_from)
    key = message.idempotency_key
    mime["Message-ID"] = f"<{key}@{domain}>" if key else make_msgid(domain=domain)
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    return mime
