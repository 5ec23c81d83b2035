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
    # The same key gives the same Message-ID, so a mail sent twice can be recognised.
    idempotency_key: str | None = None


class MailDeliveryError(Exception):
    """A mailer could not deliver a message; `permanent` says whether trying again may help."""

    permanent: bool = False


class TransientMailError(MailDeliveryError):
    """The server is unreachable, timed out or answered 4xx: try again later."""


class PermanentMailError(MailDeliveryError):
    """The server refused the message for good (5xx): trying again will not help."""

    permanent = True


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver one message; raises on failure (a MailDeliveryError when it can tell
        whether the failure is transient or permanent)."""


class MailRenderer(Protocol):
    def render(self, template: str, to: str, context: Mapping[str, Any]) -> EmailMessage:
        """Raises KeyError for an unknown template."""


class TaskQueue(Protocol):
    """Hands work to run later, outside the request. Payloads are plain JSON data."""

    async def enqueue(
        self,
        task_name: str,
        payload: Mapping[str, Any],
        task_id: str | None = None,
        trace_context: Mapping[str, str] | None = None,
    ) -> None:
        """Raises when the queue cannot take the task now (a broker down, say).

        `task_id` names the task on the queue; the outbox passes the job id, so a job
        handed over twice is recognisable as one. `trace_context` is the job's cause's
        (opaque W3C headers): the queue carries it to the task's run.
        """

    async def drain(self) -> None:
        """Wait for the tasks this process runs itself (none for a remote queue)."""
