"""Outgoing mail and background work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver one message; raises on failure."""


class TaskQueue(Protocol):
    """Hands work to run later, outside the request. Payloads are plain JSON data."""

    async def enqueue(self, task_name: str, payload: Mapping[str, Any]) -> None: ...


SEND_EMAIL_TASK = "bookly.send_email"


def email_payload(message: EmailMessage) -> dict[str, Any]:
    return {"to": message.to, "subject": message.subject, "text": message.text,
            "html": message.html}


def email_from_payload(payload: Mapping[str, Any]) -> EmailMessage:
    return EmailMessage(
        to=str(payload["to"]), subject=str(payload["subject"]), text=str(payload["text"]),
        html=None if payload.get("html") is None else str(payload["html"]),
    )
