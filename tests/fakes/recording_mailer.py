"""A `Mailer` that keeps what it was asked to send; the unit tests' fake."""

from __future__ import annotations

from application.ports.messaging import EmailMessage


class RecordingMailer:
    """Appends each message to `sent`. Set `failure` to make `send` raise it instead."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.failure: Exception | None = None

    async def send(self, message: EmailMessage) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.sent if message.to == address]
