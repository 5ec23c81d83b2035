"""`bookly books import|export`: the catalogue as CSV files.

The columns are `RECORD_FIELDS` (title, author, publisher, published_date, page_count,
language), with a header line; files are UTF-8 (a byte-order mark is accepted). Export
writes what import reads, so `bookly books export | bookly books import - --owner E`
copies a catalogue. Cells a spreadsheet would run as formulas are written with a leading
`'`, which import takes off again (`csv_cells`).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, TextIO

from application.books.bulk import RECORD_FIELDS, ImportRejected, to_record
from domain.books import Book
from entrypoints.cli.csv_cells import escape_cell, unescape_cell
from entrypoints.cli.progress import ProgressBar
from entrypoints.cli.runtime import OPERATOR, operator_command, print_json
from entrypoints.container import Container

STDIN = "-"


@contextmanager
def open_source(path: str) -> Iterator[TextIO]:
    if path == STDIN:
        yield sys.stdin
        return
    try:
        stream = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as error:
        raise SystemExit(f"bookly: cannot read {path}: {error.strerror}") from None
    with stream:
        yield stream


class CsvReader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


def numbered_records(reader: CsvReader) -> Iterator[tuple[int, Sequence[str]]]:
    """(line where the record starts, its values without the `'`s escaping added), skipping
    blank lines."""
    start = reader.line_num + 1
    for values in reader:
        if values:
            yield start, [unescape_cell(value) for value in values]
        start = reader.line_num + 1


def count_records(path: str) -> int | None:
    """For the progress bar; None when the input cannot be read twice."""
    if path == STDIN:
        return None
    with open(path, newline="", encoding="utf-8-sig") as stream:
        return max(0, sum(1 for values in csv.reader(stream) if values) - 1)


async def import_books(args: argparse.Namespace, container: Container) -> None:
    name = "standard input" if args.file == STDIN else args.file
    with open_source(args.file) as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
            if header is None:
                raise SystemExit(
                    f"bookly: {name} is empty; it needs a header line naming "
                    f"the columns {', '.join(RECORD_FIELDS)}"
                )
            bar = ProgressBar(
                sys.stderr, "importing", count_records(args.file) if sys.stderr.isatty() else None
            )
            try:
                report = await container.import_books().execute(
                    OPERATOR, args.owner, header, numbered_records(reader), bar
                )
            finally:
                bar.finish()
        except ImportRejected as rejected:
            for problem in rejected.problems:
                field = f" {problem.field}:" if problem.field else ""
                print(f"{name}:{problem.line}:{field} {problem.message}", file=sys.stderr)
            if rejected.bad_records > len(rejected.problems):
                print(
                    f"{name}: ... and {rejected.bad_records - len(rejected.problems)} more "
                    "bad records",
                    file=sys.stderr,
                )
            raise SystemExit(f"bookly: {name}: {rejected.detail}") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise SystemExit(
                f"bookly: {name}, line {reader.line_num}: not a readable "
                f"UTF-8 CSV file ({error}); nothing was imported"
            ) from None
    if args.json:
        print_json({"records": report.records, "added": report.added, "skipped": report.skipped})
    else:
        print(
            f"imported {report.added:,} books for {args.owner} ({report.records:,} records "
            f"read, {report.skipped:,} already there or repeated)"
        )


def csv_row(book: Book) -> list[str]:
    return [escape_cell(value) for value in to_record(book)]


async def export_books(args: argparse.Namespace, container: Container) -> None:
    books = aiter(container.export_books().execute(OPERATOR, args.owner))
    first = await anext(books, None)  # an unknown owner fails before any output
    writer = csv.writer(sys.stdout, lineterminator="\n")
    try:
        writer.writerow(RECORD_FIELDS)
        if first is not None:
            writer.writerow(csv_row(first))
            async for book in books:
                writer.writerow(csv_row(book))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from failing
        # again when it flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser(
        "books",
        help="import and export the catalogue as CSV",
        description="The catalogue as CSV files with the header "
        f"{','.join(RECORD_FIELDS)} (UTF-8; dates YYYY-MM-DD).",
    )
    sub = group.add_subparsers(dest="books_command", required=True, metavar="COMMAND")

    load = sub.add_parser(
        "import",
        help="add the books of a CSV file to one owner's shelf",
        description="Add the books of a CSV file to one owner's shelf, all or nothing: "
        "a file with a bad record loads nothing, and every bad record is "
        "reported with its line number. Re-running is safe: a book the same "
        "owner already has from an import (same title, author and "
        "published_date, ignoring case and spacing) is skipped. The ' that "
        "`books export` writes before a cell starting with =, +, -, @, ', a tab "
        "or a carriage return is taken off. A progress bar is drawn on standard "
        "error when it is a terminal.",
    )
    load.add_argument("file", metavar="FILE.csv", help="the CSV file ('-': standard input)")
    load.add_argument(
        "--owner", metavar="EMAIL", required=True, help="the account that will own the books"
    )
    load.add_argument(
        "--json", action="store_true", help='print {"records", "added", "skipped"} as JSON'
    )
    operator_command(load, import_books)

    dump = sub.add_parser(
        "export",
        help="write the catalogue as CSV to standard output",
        description="Write every book (or one owner's), oldest first, as CSV to standard "
        "output, with the columns that `books import` reads. Streams in pages, "
        "so a large catalogue takes little memory. A cell that a spreadsheet "
        "would run as a formula (it starts with =, +, -, @, a tab or a carriage "
        "return) is written with a leading ', which `books import` takes off.",
    )
    dump.add_argument("--owner", metavar="EMAIL", help="only this account's books")
    operator_command(dump, export_books)
