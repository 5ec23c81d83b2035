"""What Bookly writes to disk that an attacker on the same machine could use is readable
by its owner only, whatever the umask: the embedded default's SQLite database (with its
`-wal` and `-shm` files) and the mail outbox, whose `.eml` files hold live links."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from entrypoints.cli.main import migrate
from entrypoints.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_database_and_the_mails_are_their_owners_only(
    api_factory, configuration, tmp_path, permissive_umask
):
    outbox, database = tmp_path / "fresh" / "outbox", tmp_path / "fresh" / "data" / "bookly.db"
    overrides: dict[str, object] = {"mail_outbox_dir": outbox}
    if configuration == "embedded":  # a new database, made as `bookly serve` makes it
        overrides["database_url"] = f"sqlite+aiosqlite:///{database}"
        await asyncio.to_thread(migrate, Settings(_env_file=None, **overrides))
    async with api_factory(**overrides) as api:
        await api.signup(verify=False)
        assert len(await api.mails()) == 1
        mails = list(outbox.glob("*.eml"))
        modes = {path.name: mode(path) for path in mails}
        if configuration == "embedded":
            stored = [database.with_name(database.name + end) for end in ("", "-wal", "-shm")]
            modes |= {path.name: mode(path) for path in stored}
    assert mode(outbox) == 0o700
    assert modes == dict.fromkeys(modes, 0o600) and len(modes) == (
        4 if configuration == "embedded" else 1
    )
