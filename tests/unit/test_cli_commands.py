"""The `bookly` operator commands in-process, on the memory harness's container."""

from __future__ import annotations

import argparse
import csv
import io
import json
import uuid
from datetime import date, timedelta

import pytest

from application.books.bulk import RECORD_FIELDS
from domain.books import Book, BookDetails
from domain.users import Role, User
from entrypoints.cli import users as users_cli
from entrypoints.cli.main import main, parser
from entrypoints.cli.runtime import perform
from tests.services import USER_FIELDS
from tests.unit.harness import build_harness

HEADER = ",".join(RECORD_FIELDS)
LAST_ADMIN = "bookly: This would leave no active admin."


def add_user(
    harness, name: str, role: Role = Role.USER, verified: bool = True, active: bool = True
) -> User:
    harness.clock.advance(1)
    now = harness.clock.now()
    user = User(
        uuid.uuid4(),
        f"{name}@example.com",
        name,
        "First",
        "Last",
        "plain$x",
        now,
        now,
        role=role,
        is_verified=verified,
        is_active=active,
    )
    harness.database.users[user.uid] = user
    return user


async def bookly(harness, *argv: str) -> None:
    """Parse and run like `main`, in the test's event loop, on the harness's container."""
    await perform(parser().parse_args(argv, argparse.Namespace(container=harness.container)))


async def fails(harness, *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        await bookly(harness, *argv)
    assert isinstance(exited.value.code, str) and "\n" not in exited.value.code
    return exited.value.code


@pytest.fixture
def people(harness):
    return {
        "root": add_user(harness, "root", Role.ADMIN),
        "ada": add_user(harness, "ada"),
        "bob": add_user(harness, "bob", verified=False),
        "gus": add_user(harness, "gus", Role.GUEST, active=False),
    }


async def test_users_list_prints_a_table_and_a_count(harness, people, capsys):
    await bookly(harness, "users", "list")
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["email", "username", "role", "verified", "active", "created", "uid"]
    assert [line.split()[0] for line in lines[1:]] == [
        "root@example.com",
        "ada@example.com",
        "bob@example.com",
        "gus@example.com",
    ]
    assert lines[3].split()[2:5] == ["user", "no", "yes"]
    assert err == "4 of 4 matching accounts\n"


async def test_users_list_filters_and_json(harness, people, capsys):
    await bookly(harness, "users", "list", "--role", "user", "--verified", "--active", "--json")
    page = json.loads(capsys.readouterr().out)
    assert [u["email"] for u in page["items"]] == ["ada@example.com"]
    assert page["items"][0] == users_cli.user_record(people["ada"]) | {
        "uid": str(people["ada"].uid)
    }
    assert set(page["items"][0]) == USER_FIELDS  # the API's fields, no more
    assert (page["total"], page["limit"], page["offset"]) == (1, None, 0)
    await bookly(harness, "users", "list", "--no-active", "--json")
    assert [u["username"] for u in json.loads(capsys.readouterr().out)["items"]] == ["gus"]
    await bookly(harness, "users", "list", "-q", "B@EX", "--json")
    assert [u["username"] for u in json.loads(capsys.readouterr().out)["items"]] == ["bob"]


async def test_users_list_pages_through_everything(harness, people, capsys, monkeypatch):
    monkeypatch.setattr(users_cli, "PAGE_SIZE", 3)
    for i in range(6):
        add_user(harness, f"extra{i}")
    await bookly(harness, "users", "list", "--json")
    page = json.loads(capsys.readouterr().out)
    assert len(page["items"]) == page["total"] == 10
    await bookly(harness, "users", "list", "--json", "--limit", "4", "--offset", "5")
    page = json.loads(capsys.readouterr().out)
    assert [u["username"] for u in page["items"]] == ["extra1", "extra2", "extra3", "extra4"]
    assert (page["total"], page["limit"], page["offset"]) == (10, 4, 5)


async def test_set_role_deactivate_activate(harness, people, capsys):
    ada = people["ada"]
    await bookly(harness, "users", "set-role", "ADA@example.com", "guest")
    assert capsys.readouterr().out == "ada@example.com now has the role guest\n"
    assert harness.database.users[ada.uid].role is Role.GUEST
    await bookly(harness, "users", "deactivate", "ada@example.com", "--json")
    assert json.loads(capsys.readouterr().out)["is_active"] is False
    assert not harness.database.users[ada.uid].is_active
    await bookly(harness, "users", "activate", "ada@example.com")
    assert capsys.readouterr().out == "ada@example.com is active\n"
    assert harness.database.users[ada.uid].is_active


async def test_deactivating_ends_the_accounts_sessions(harness, people):
    session = uuid.uuid4()
    await harness.store.open_session(
        session, people["ada"].uid, "r", harness.clock.now() + timedelta(hours=1)
    )
    await bookly(harness, "users", "deactivate", "ada@example.com")
    assert not await harness.store.is_live(session)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (("users", "set-role", "root@example.com", "user"), LAST_ADMIN),
        (("users", "deactivate", "root@example.com"), LAST_ADMIN),
        (
            ("users", "activate", "nobody@example.com"),
            "bookly: No account has the email nobody@example.com.",
        ),
        (("users", "deactivate", "not an email"), "bookly: Enter a valid email address."),
    ],
)
async def test_refusals_exit_non_zero_with_one_line(harness, people, argv, reason):
    assert await fails(harness, *argv) == reason
    assert harness.database.users[people["root"].uid].is_admin


def test_usage_errors_exit_2(capsys):
    for argv in (
        ["users", "set-role", "a@example.com", "superuser"],
        ["users"],
        ["books", "import", "x.csv"],
        ["users", "list", "--limit", "0"],
    ):
        with pytest.raises(SystemExit) as exited:
            parser().parse_args(argv)
        assert exited.value.code == 2
    capsys.readouterr()


def test_main_runs_on_an_injected_container(capsys):
    """`main` itself (a fresh event loop per command) on the harness's container."""
    harness = build_harness()
    add_user(harness, "root", Role.ADMIN)
    main(["users", "list", "--json"], container=harness.container)
    assert json.loads(capsys.readouterr().out)["total"] == 1
    with pytest.raises(SystemExit) as exited:
        main(["users", "deactivate", "root@example.com"], container=harness.container)
    assert exited.value.code == "bookly: This would leave no active admin."


def write_csv(path, *rows: str) -> str:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


DUNE = "Dune,Frank Herbert,Chilton,1965-08-01,412,en"


async def test_books_import_reports_and_is_idempotent(harness, people, tmp_path, capsys):
    path = write_csv(
        tmp_path / "books.csv",
        DUNE,
        '"Emma, a novel",Jane Austen,Murray,1815-12-23,400,en',
        "",
        "Ünïcode,Ä,P,2000-01-01,1,pt-BR",
    )
    await bookly(harness, "books", "import", path, "--owner", "ada@example.com")
    out, err = capsys.readouterr()
    assert out == (
        "imported 3 books for ada@example.com (3 records read, 0 already there or repeated)\n"
    )
    assert err == ""  # no progress bar when standard error is not a terminal
    assert {b.title for b in harness.database.books.values()} == {
        "Dune",
        "Emma, a novel",
        "Ünïcode",
    }
    await bookly(harness, "books", "import", path, "--owner", "ada@example.com", "--json")
    assert json.loads(capsys.readouterr().out) == {"records": 3, "added": 0, "skipped": 3}
    assert len(harness.database.books) == 3


async def test_a_file_with_bad_records_loads_nothing(harness, people, tmp_path, capsys):
    path = write_csv(
        tmp_path / "bad.csv",
        DUNE,
        "Emma,Jane Austen,Murray,1815-12-23,0,en",
        DUNE.replace("1965-08-01", "1965-13-01"),
        "only,three,values",
    )
    reason = await fails(harness, "books", "import", path, "--owner", "ada@example.com")
    assert reason == f"bookly: {path}: 3 bad records; nothing was imported"
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:3: page_count: A whole number from 1 to 100000.",
        f"{path}:4: published_date: A calendar date, YYYY-MM-DD.",
        f"{path}:5: expected 6 values, found 3",
    ]
    assert harness.database.books == {}


async def test_line_numbers_count_lines_inside_quoted_values(harness, people, tmp_path, capsys):
    path = write_csv(
        tmp_path / "multi.csv",
        '"A title\nover two lines",X,Y,2000-01-01,1,en',
        DUNE.replace("412", "-1"),
    )
    await fails(harness, "books", "import", path, "--owner", "ada@example.com")
    assert capsys.readouterr().err.splitlines() == [  # (titles are one line)
        f"{path}:2: title: 1 to 255 printable characters.",
        f"{path}:4: page_count: A whole number such as 320.",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (
            b"title,author\nDune,Frank Herbert\n",
            ": line 1: the header must name the columns title,",
        ),
        (HEADER.encode() + b"\nD\xfcne,F,P,2000-01-01,1,en\n", "not a readable UTF-8 CSV file"),
    ],
)
async def test_unreadable_files(harness, people, tmp_path, content, reason):
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    assert reason in await fails(
        harness, "books", "import", str(path), "--owner", "ada@example.com"
    )
    assert "cannot read" in await fails(
        harness, "books", "import", str(tmp_path / "no.csv"), "--owner", "ada@example.com"
    )
    assert "No account" in await fails(
        harness,
        "books",
        "import",
        write_csv(tmp_path / "ok.csv", DUNE),
        "--owner",
        "nobody@example.com",
    )
    assert harness.database.books == {}


async def test_a_progress_bar_is_drawn_on_a_terminal(
    harness, people, tmp_path, monkeypatch, capsys
):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    rows = [f"Book {i},Author,P,2000-01-01,{i + 1},en" for i in range(2500)]
    await bookly(
        harness,
        "books",
        "import",
        write_csv(tmp_path / "big.csv", *rows),
        "--owner",
        "ada@example.com",
    )
    drawn = terminal.getvalue()
    assert drawn.count("\r") == 3 and drawn.endswith("\n")
    assert "[############------------------] 1,000/2,500" in drawn
    assert f"[{'#' * 30}] 2,500/2,500" in drawn
    assert "imported 2,500 books" in capsys.readouterr().out


async def test_export_writes_what_import_reads(harness, people, tmp_path, capsys):
    source = write_csv(
        tmp_path / "in.csv", DUNE, '"Emma, ""the"" novel",Jane Austen,Murray,1815-12-23,400,en'
    )
    await bookly(harness, "books", "import", source, "--owner", "ada@example.com")
    capsys.readouterr()
    await bookly(harness, "books", "export")
    exported = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == list(RECORD_FIELDS)
    assert sorted(rows[1:]) == sorted(
        csv.reader(io.StringIO((tmp_path / "in.csv").read_text().split("\n", 1)[1]))
    )
    (tmp_path / "out.csv").write_text(exported, encoding="utf-8")
    harness.database.books.clear()
    await bookly(
        harness, "books", "import", str(tmp_path / "out.csv"), "--owner", "bob@example.com"
    )
    assert len(harness.database.books) == 2
    assert {b.owner_uid for b in harness.database.books.values()} == {people["bob"].uid}
    capsys.readouterr()
    await bookly(harness, "books", "export", "--owner", "ada@example.com")
    assert capsys.readouterr().out == HEADER + "\n"
    assert "No account" in await fails(harness, "books", "export", "--owner", "x@example.com")
    assert capsys.readouterr().out == ""  # nothing written before the failure


# Titles that a spreadsheet would run, and one that merely starts with a quote.
FORMULAS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+1": "'+1",
    "-1": "'-1",
    "@x": "'@x",
    "'=x": "''=x",
    "'Salem's Lot": "'Salem's Lot",
}


def add_book(harness, owner: User, text: str) -> None:
    details = BookDetails(text, f"{text} author", text, date(2000, 1, 1), 10, "en")
    book = Book.create(uuid.uuid4(), owner.uid, details, harness.clock.now())
    harness.database.books[book.uid] = book


async def test_export_writes_formulas_as_text_and_import_reads_them_back(
    harness, people, tmp_path, capsys
):
    for title in FORMULAS:
        add_book(harness, people["ada"], title)
    await bookly(harness, "books", "export", "--owner", "ada@example.com")
    exported = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(exported)))[1:]
    assert sorted(row[0] for row in rows) == sorted(FORMULAS.values())
    assert sorted(row[2] for row in rows) == sorted(FORMULAS.values())  # publishers too
    assert {row[1] for row in rows} == {f"{written} author" for written in FORMULAS.values()}

    (tmp_path / "out.csv").write_text(exported, encoding="utf-8")
    await bookly(
        harness, "books", "import", str(tmp_path / "out.csv"), "--owner", "bob@example.com"
    )
    copied = [b for b in harness.database.books.values() if b.owner_uid == people["bob"].uid]
    assert sorted((b.title, b.author, b.publisher) for b in copied) == sorted(
        (title, f"{title} author", title) for title in FORMULAS
    )


async def test_a_cell_with_a_control_character_is_refused_not_trimmed(
    harness, people, tmp_path, capsys
):
    path = write_csv(
        tmp_path / "tab.csv",
        DUNE,
        '"\t=HYPERLINK(""http://x"",""y"")",A,P,2000-01-01,1,en',
        'Emma,Jane Austen,"Murray\r",1815-12-23,400,en',
    )
    reason = await fails(harness, "books", "import", path, "--owner", "ada@example.com")
    assert reason == f"bookly: {path}: 2 bad records; nothing was imported"
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:3: title: 1 to 255 printable characters.",
        f"{path}:4: publisher: 1 to 255 printable characters.",
    ]
    assert harness.database.books == {}
