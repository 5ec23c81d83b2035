from __future__ import annotations

import email
import os
import stat
from email.policy import default
from pathlib import Path

import pytest

from adapters.files.outbox_mailer import FileOutboxMailer
from application.ports.messaging import EmailMessage
from tests.fakes.recording_mailer import RecordingMailer

FROM = "Bookly <no-reply@bookly.local>"


async def test_writes_one_eml_file_per_message(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"  # created on first use
    mailer = FileOutboxMailer(folder, FROM)
    await mailer.send(
        EmailMessage(to="a@example.com", subject="First", text="one", html="<p>one</p>")
    )
    await mailer.send(EmailMessage(to="b@example.com", subject="Second", text="two"))

    files = sorted(folder.iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]  # no temporary files left
    first, second = (email.message_from_bytes(p.read_bytes(), policy=default) for p in files)
    assert first["Subject"] == "First" and second["Subject"] == "Second"  # sorted by time
    assert first["To"] == "a@example.com" and first["From"] == FROM
    html = first.get_body(preferencelist=("html",))
    assert html is not None and html.get_content().strip() == "<p>one</p>"
    assert second.get_content().strip() == "two"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_mails_and_their_folder_are_for_their_owner_only(
    tmp_path: Path, permissive_umask
) -> None:
    folder = tmp_path / "outbox"
    seen: list[int] = []
    real_replace = os.replace

    def replace(source, target) -> None:  # the temporary file, just before it is renamed
        seen.append(mode(Path(source)))
        real_replace(source, target)

    mailer = FileOutboxMailer(folder, FROM)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("adapters.files.outbox_mailer.os.replace", replace)
        await mailer.send(EmailMessage(to="a@example.com", subject="Reset", text="a link"))
    assert mode(folder) == 0o700
    assert [mode(path) for path in folder.iterdir()] == [0o600] and seen == [0o600]


async def test_a_folder_that_exists_keeps_its_mode(tmp_path: Path, permissive_umask) -> None:
    (tmp_path / "shared").mkdir(mode=0o750)
    await FileOutboxMailer(tmp_path / "shared", FROM).send(
        EmailMessage(to="a@example.com", subject="s", text="t")
    )
    assert mode(tmp_path / "shared") == 0o750


async def test_names_are_unique(tmp_path: Path) -> None:
    mailer = FileOutboxMailer(tmp_path, FROM)
    for _ in range(20):
        await mailer.send(EmailMessage(to="a@example.com", subject="s", text="t"))
    names = [path.name for path in tmp_path.iterdir()]
    assert len(set(names)) == 20
    assert all(name.endswith(".eml") and not name.startswith(".") for name in names)


async def test_recording_mailer_keeps_messages() -> None:
    mailer = RecordingMailer()
    message = EmailMessage(to="a@example.com", subject="s", text="t")
    await mailer.send(message)
    assert mailer.sent == [message]
    assert mailer.sent_to("a@example.com") == [message]
    assert mailer.sent_to("b@example.com") == []


async def test_recording_mailer_can_fail() -> None:
    mailer = RecordingMailer()
    mailer.failure = ConnectionError("down")
    with pytest.raises(ConnectionError):
        await mailer.send(EmailMessage(to="a@example.com", subject="s", text="t"))
    assert mailer.sent == []
