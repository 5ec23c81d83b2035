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


class MailRenderer(Protocol):
    def render(self, template: str, to: str, context: Mapping[str, Any]) -> EmailMessage:
        """Raises KeyError for an unknown template."""


class TaskQueue(Protocol):
    """Hands work to run later, outside the request. Payloads are plain JSON data."""

    async def enqueue(self, task_name: str, payload: Mapping[str, Any]) -> None: ...
