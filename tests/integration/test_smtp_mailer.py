"""SmtpMailer against a local aiosmtpd server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtplib import SMTPException

from adapters.smtp.mailer import SmtpMailer
from application.ports.messaging import EmailMessage, MailDeliveryError, TransientMailError
from tests.services import Inbox, free_port

pytestmark = pytest.mark.smtp


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


MESSAGE = EmailMessage(
    to="reader@example.com",
    subject="Verify your email — Bookly",
    text="Open http://127.0.0.1:8000/api/v1/auth/verify/abc to verify.",
    html="<p><a href='http://127.0.0.1:8000/api/v1/auth/verify/abc'>Verify</a></p>",
)


async def test_delivers_text_and_html(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, mail_from="Bookly <no-reply@bookly.test>", timeout=5)
    await mailer.send(MESSAGE)

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "no-reply@bookly.test"
    assert envelope.rcpt_tos == ["reader@example.com"]
    (received,) = inbox.messages()
    assert received["From"] == "Bookly <no-reply@bookly.test>"
    assert received["To"] == "reader@example.com"
    assert received["Subject"] == MESSAGE.subject
    assert received["Date"] and received["Message-ID"].endswith("@bookly.test>")
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None and text.get_content().strip() == MESSAGE.text
    assert html is not None and html.get_content().strip() == MESSAGE.html


async def test_text_only(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    await SmtpMailer("127.0.0.1", port).send(
        EmailMessage(to="a@example.com", subject="Hi", text="plain only")
    )
    (received,) = inbox.messages()
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == "plain only"
    assert received["From"] == "Bookly <no-reply@bookly.local>"


async def test_refusal_raises(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    inbox.answer = "554 Transaction failed"
    with pytest.raises(SMTPException):
        await SmtpMailer("127.0.0.1", port).send(MESSAGE)


async def test_no_server_raises() -> None:
    with pytest.raises((SMTPException, OSError)):
        await SmtpMailer("127.0.0.1", free_port(), timeout=2).send(MESSAGE)


async def test_header_injection_is_refused(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    with pytest.raises(ValueError):
        await SmtpMailer("127.0.0.1", port).send(
            EmailMessage(to="a@example.com", subject="Hi\r\nBcc: x@evil.test", text="t")
        )
    assert inbox.envelopes == []


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        ("451 4.3.0 Try again later", False),
        ("421 4.7.0 Too busy", False),
        ("550 5.1.1 No such mailbox", True),
        ("554 5.7.1 Rejected", True),
    ],
)
async def test_refusals_say_whether_trying_again_may_help(
    smtp_server: tuple[Inbox, int], answer: str, permanent: bool
) -> None:
    inbox, port = smtp_server
    inbox.answer = answer
    with pytest.raises(MailDeliveryError) as raised:
        await SmtpMailer("127.0.0.1", port).send(MESSAGE)
    assert raised.value.permanent is permanent
    assert answer.split()[0] in str(raised.value)


async def test_an_unreachable_server_is_a_transient_failure() -> None:
    with pytest.raises(TransientMailError):
        await SmtpMailer("127.0.0.1", free_port(), timeout=2).send(MESSAGE)


async def test_an_idempotency_key_fixes_the_message_id(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    keyed = EmailMessage(to="a@example.com", subject="Hi", text="t", idempotency_key="job-1")
    mailer = SmtpMailer("127.0.0.1", port, mail_from="Bookly <no-reply@bookly.test>")
    await mailer.send(keyed)
    await mailer.send(keyed)
    assert [m["Message-ID"] for m in inbox.messages()] == ["<job-1@bookly.test>"] * 2
