"""Mail jobs: what use cases hand to the task queue, and the use case that delivers one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.ports.messaging import Mailer, MailRenderer, TaskQueue

SEND_EMAIL_TASK = "bookly.send_email"

VERIFY_EMAIL = "verify_email"
ACCOUNT_EXISTS = "account_exists"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a template name


async def enqueue_mail(
    queue: TaskQueue, template: str, to: str, context: Mapping[str, Any]
) -> None:
    await queue.enqueue(SEND_EMAIL_TASK, {"template": template, "to": to, "context": dict(context)})


class DeliverMail:
    """Render a mail job and send it. Runs in whatever executes the task queue."""

    def __init__(self, renderer: MailRenderer, mailer: Mailer) -> None:
        self._renderer = renderer
        self._mailer = mailer

    async def execute(self, payload: Mapping[str, Any]) -> None:
        message = self._renderer.render(
            str(payload["template"]), str(payload["to"]), dict(payload.get("context") or {})
        )
        await self._mailer.send(message)
