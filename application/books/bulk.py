"""Books in bulk, for operators: importing a file of records, exporting the catalogue.

A record is the six fields an owner writes, as text, in the order of `RECORD_FIELDS`;
the file format (CSV) is the entrypoint's business. An import is all-or-nothing, and a
re-run adds nothing twice: a record's book gets a deterministic uid (`import_uid`), a
uuid5 of its owner, title, author and publication date (normalised), and the repository
skips uids it already holds.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from application.permissions import Actor, require_admin
from application.ports.clock import Clock
from application.ports.persistence import UnitOfWorkFactory
from domain.books import EDITABLE_FIELDS, Book, BookDetails
from domain.errors import DomainError, ErrorKind, RuleViolation, UserNotFound
from domain.users import normalize_email

RECORD_FIELDS = EDITABLE_FIELDS  # a record holds what an owner writes, in that order
IMPORT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bookly:book-import")
BOOKS_PER_BATCH = 1000
MAX_PROBLEMS_KEPT = 100
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PAGE_COUNT_PATTERN = re.compile(r"^\d{1,9}$")

Progress = Callable[[int], None]  # told how many records have been read so far


@dataclass(frozen=True, slots=True)
class RecordProblem:
    line: int  # in the file, 1 = the header
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


class ImportRejected(DomainError):
    """The file has bad records (or a bad header); nothing of it was imported."""

    error_code = "import_rejected"
    kind = ErrorKind.INVALID

    def __init__(
        self, problems: Sequence[RecordProblem], bad_records: int, reason: str | None = None
    ) -> None:
        self.problems = list(problems)
        self.bad_records = bad_records
        noun = "bad record" if bad_records == 1 else "bad records"
        super().__init__(f"{reason or f'{bad_records} {noun}'}; nothing was imported")


@dataclass(frozen=True, slots=True)
class ImportReport:
    records: int  # read from the file
    added: int  # new books
    skipped: int  # already imported before, or repeated in the file


def import_uid(owner_uid: uuid.UUID, details: BookDetails) -> uuid.UUID:
    """The same book of the same owner gets the same uid, however the file spells its
    case and spacing; publisher, page count and language do not count."""

    def normal(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())

    key = "\x1f".join(
        (
            str(owner_uid),
            normal(details.title),
            normal(details.author),
            details.published_date.isoformat(),
        )
    )
    return uuid.uuid5(IMPORT_NAMESPACE, key)


def check_header(header: Sequence[str]) -> None:
    names = [name.strip().lower() for name in header]
    missing = [name for name in RECORD_FIELDS if name not in names]
    unknown = [name for name in names if name not in RECORD_FIELDS]
    if missing or unknown or len(names) != len(set(names)):
        problems = [
            *(["missing " + ", ".join(missing)] if missing else []),
            *(["unknown " + ", ".join(unknown)] if unknown else []),
            *(["a column is repeated"] if len(names) != len(set(names)) else []),
        ]
        detail = "; ".join(problems)
        raise ImportRejected(
            [], 0, f"line 1: the header must name the columns {', '.join(RECORD_FIELDS)} ({detail})"
        )


def parse_record(header: Sequence[str], values: Sequence[str]) -> BookDetails:
    """Raises RuleViolation naming the first bad field."""
    if len(values) != len(header):
        raise RuleViolation("", f"expected {len(header)} values, found {len(values)}")
    fields = {name.strip().lower(): value for name, value in zip(header, values, strict=True)}
    published = fields["published_date"].strip()
    if not DATE_PATTERN.fullmatch(published):
        raise RuleViolation("published_date", "A calendar date, YYYY-MM-DD.")
    try:
        published_date = date.fromisoformat(published)
    except ValueError:
        raise RuleViolation("published_date", "A calendar date, YYYY-MM-DD.") from None
    page_count = fields["page_count"].strip()
    if not PAGE_COUNT_PATTERN.fullmatch(page_count):
        raise RuleViolation("page_count", "A whole number such as 320.")
    return BookDetails(
        fields["title"],
        fields["author"],
        fields["publisher"],
        published_date,
        int(page_count),
        fields["language"],
    )


def to_record(book: Book) -> list[str]:
    """A book as the text fields of a record: what `parse_record` reads back."""
    return [
        book.title,
        book.author,
        book.publisher,
        book.published_date.isoformat(),
        str(book.page_count),
        book.language,
    ]


class ImportBooks:
    """Adds the books of a file of records to one owner's shelf, in one transaction.

    Every record is checked; if any is bad, nothing is added and the problems (up to
    MAX_PROBLEMS_KEPT of them, with their line numbers) come back in ImportRejected.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        actor: Actor,
        owner_email: str,
        header: Sequence[str],
        records: Iterable[tuple[int, Sequence[str]]],
        progress: Progress | None = None,
    ) -> ImportReport:
        require_admin(actor)
        check_header(header)
        owner_address = normalize_email(owner_email)
        now = self._clock.now()
        problems: list[RecordProblem] = []
        bad = read = added = 0
        seen: set[uuid.UUID] = set()
        batch: list[Book] = []
        async with self._uow() as uow:
            owner = await uow.users.get_by_email(owner_address)
            if owner is None:
                raise UserNotFound(f"No account has the email {owner_address}.")
            for line, values in records:
                read += 1
                try:
                    details = parse_record(header, values)
                except RuleViolation as error:
                    bad += 1
                    if len(problems) < MAX_PROBLEMS_KEPT:
                        problems.append(RecordProblem(line, error.field or None, error.detail))
                    continue
                uid = import_uid(owner.uid, details)
                if uid in seen or bad:
                    continue  # repeated in the file, or nothing will be written anyway
                seen.add(uid)
                batch.append(Book.create(uid, owner.uid, details, now))
                if len(batch) == BOOKS_PER_BATCH:
                    added += await uow.books.add_many(batch)
                    batch.clear()
                    if progress:
                        progress(read)
            if bad:
                raise ImportRejected(problems, bad)
            added += await uow.books.add_many(batch)
            await uow.commit()
        if progress:
            progress(read)
        return ImportReport(read, added, read - added)


class ExportBooks:
    """Every book (or one owner's), oldest first, read in pages of short transactions so
    a large catalogue streams out without holding the database."""

    def __init__(self, uow: UnitOfWorkFactory, page_size: int = 500) -> None:
        self._uow = uow
        self._page_size = page_size

    async def execute(self, actor: Actor, owner_email: str | None = None) -> AsyncIterator[Book]:
        require_admin(actor)
        owner_uid = None
        if owner_email is not None:
            address = normalize_email(owner_email)
            async with self._uow() as uow:
                owner = await uow.users.get_by_email(address)
            if owner is None:
                raise UserNotFound(f"No account has the email {address}.")
            owner_uid = owner.uid
        after = None
        while True:
            async with self._uow() as uow:
                page = await uow.books.scan(after, self._page_size, owner_uid)
            for book in page:
                yield book
            if len(page) < self._page_size:
                return
            after = (page[-1].created_at, page[-1].uid)
