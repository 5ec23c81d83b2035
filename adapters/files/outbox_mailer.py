"""Mail written to a folder as `.eml` files, for development without an SMTP server."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from adapters.smtp.message import build_mime_message
from application.ports.messaging import EmailMessage


class FileOutboxMailer:
    """`Mailer` that drops each message in `folder` as `<UTC time>-<random>.eml`.

    Names sort by the time of sending and never collide. Each file is written under a
    hidden temporary name and renamed into place, so a reader never sees half a
    message. File work runs in a thread, off the event loop.

    Mails carry live links (a password reset is as good as the password), so the files
    are readable by their owner only (0600, from the moment they exist), and so is the
    folder (0700) when the mailer creates it; a folder that exists keeps its mode.
    """

    def __init__(self, folder: Path, mail_from: str) -> None:
        self._folder = Path(folder)
        self._mail_from = mail_from

    async def send(self, message: EmailMessage) -> None:
        now = datetime.now(UTC)
        data = bytes(build_mime_message(message, self._mail_from, now=now))
        name = f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}.eml"
        await asyncio.to_thread(self._write, name, data)

    def _write(self, name: str, data: bytes) -> Path:
        self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self._folder / name
        temporary = self._folder / f".{name}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return target
