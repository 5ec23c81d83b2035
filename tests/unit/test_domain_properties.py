"""Property tests of the domain rules: each accepts exactly what its rule says, and the
normal forms (emails, tag names and keys, search keys) are stable and ignore case."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from adapters.sqlalchemy.book_reads import EngineRows, SqlBookReads
from adapters.sqlalchemy.engine import create_engine, session_factory
from adapters.sqlalchemy.mapping import start_mappers
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.books import BookQuery
from domain.books import PAGE_COUNT_MAX, Book, BookDetails
from domain.errors import RuleViolation
from domain.reviews import REVIEW_TEXT_MAX_LENGTH, check_rating, check_review_text
from domain.tags import TAG_NAME_MAX_LENGTH, clean_tag_name, tag_key
from domain.users import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    check_name,
    check_password,
    check_username,
    normalize_email,
)
from tests.fakes.books import MemoryBookReads
from tests.fakes.persistence import MemoryDatabase
from tests.integration.sql_fixtures import make_user, migrated_sqlite_url

PURE = settings(max_examples=300, deadline=None, database=None)
STORED = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Characters that trip text rules: every kind of white space `str.strip` knows, C0 and C1
# controls, combining marks, letters whose case mappings are special, LIKE's wildcards.
SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u3000"
CONTROLS = "".join(map(chr, range(32))) + "\x7f\x80\x9f"
# sharp s (small, capital), sigma (final, small, capital), dotless i, dotted capital I,
# Kelvin sign, the fi ligature, j with caron, the angstrom sign, omega and the ohm sign.
CASE_TRAPS = "\u00df\u1e9e\u03c2\u03c3\u03a3\u0131\u0130\u212a\ufb01\u01f0\u212b\u03c9\u2126"
TRICKY = CASE_TRAPS + "\u0301\u0308\u00ad\u200b\ufeff\ue000\U000e0001%_\\[]^*?'\"@."
tricky_chars = st.sampled_from(SPACES + CONTROLS + TRICKY)
any_chars = st.characters(codec="utf-8")  # lone surrogates never pass the HTTP schemas
letters = st.sampled_from("abcXYZ019-_.")
texts = st.text(st.one_of(tricky_chars, any_chars, letters), max_size=80)


def is_space(char: str) -> bool:
    return char.isspace()


def case_pair(char: str) -> tuple[str, str] | None:
    """Its lower and upper case, where Unicode's default case folding says they are the
    same letter (so not sharp s, whose upper case is "SS", nor the dotless i, which folding
    keeps apart from I)."""
    lower, upper = char.lower(), char.upper()
    same = len(lower) == len(upper) == 1 and lower.casefold() == upper.casefold()
    return (lower, upper) if same else None


@st.composite
def case_variants(draw: st.DrawFn, text: str) -> str:
    """`text` with the case of some of its letters changed."""
    return "".join(
        draw(st.sampled_from(pair)) if (pair := case_pair(char)) else char for char in text
    )


def all_cases(text: str) -> list[str]:
    """`text` in lower case, in upper case and with its case swapped, letter by letter."""
    pairs = [(case_pair(char) or (char, char)) for char in text]
    return [
        "".join(p[0] for p in pairs),
        "".join(p[1] for p in pairs),
        "".join(p[1] if char == p[0] else p[0] for char, p in zip(text, pairs, strict=True)),
    ]


def accepted(rule, *args):
    try:
        return True, rule(*args)
    except RuleViolation:
        return False, None


# --- Emails -----------------------------------------------------------------------------

greek = st.text(st.sampled_from("\u03b1\u03b2\u0391\u03a9Kk" + CASE_TRAPS), max_size=6)
emails = st.builds(
    lambda local, at, domain: f"{local}{at}{domain}",
    st.one_of(texts, greek),
    st.sampled_from(["@", "@", "\uff20", ""]),
    st.one_of(texts, greek),
)


@PURE
@given(emails)
def test_normalized_emails_are_a_fixed_point(raw):
    ok, email = accepted(normalize_email, raw)
    assume(ok)
    assert normalize_email(email) == email
    local, _, domain = email.rpartition("@")
    assert local and domain and len(email) <= EMAIL_MAX_LENGTH
    assert email == email.strip() and unicodedata.is_normalized("NFKC", email)
    assert all(ord(char) >= 32 for char in email)  # no control, no NUL (PostgreSQL)


@PURE
@given(st.data(), emails)
@example(data=None, raw="a\u03c3@example.gr")  # small sigma; its capital lowers to final
def test_emails_compare_without_regard_to_case(data, raw):
    variants = all_cases(raw) + ([data.draw(case_variants(raw))] if data else [])
    expected = accepted(normalize_email, raw)
    for variant in variants:
        assert accepted(normalize_email, variant) == expected, variant


# --- People -----------------------------------------------------------------------------

USERNAME_ALPHABET = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@PURE
@given(
    st.one_of(
        texts, st.text(st.sampled_from([*sorted(USERNAME_ALPHABET), "\u00e9", "\n"]), max_size=40)
    )
)
def test_usernames_are_3_to_32_of_letters_digits_dot_dash_underscore(raw):
    expected = 3 <= len(raw) <= 32 and set(raw) <= USERNAME_ALPHABET
    assert accepted(check_username, raw) == (expected, raw if expected else None)


def printable_trimmed(raw: str, max_length: int) -> str | None:
    """The rule of names and book texts: no C0 control, DEL or C1 control anywhere (a
    leading tab is refused, not trimmed); NFC, trimmed, 1 to `max_length` characters."""
    text = unicodedata.normalize("NFC", raw).strip()
    controls = [char for char in raw if ord(char) < 32 or 0x7F <= ord(char) <= 0x9F]
    return text if 0 < len(text) <= max_length and not controls else None


long_texts = st.one_of(texts, st.text(st.one_of(letters, tricky_chars), min_size=60, max_size=70))


@PURE
@given(long_texts)
@example("\t=x")
@example("x\r")
@example(" \x85x")
def test_names_are_1_to_64_printable_characters_once_trimmed(raw):
    ok, name = accepted(check_name, "first_name", raw)
    assert name == printable_trimmed(raw, NAME_MAX_LENGTH)
    if ok:
        assert check_name("first_name", name) == name  # a fixed point


@PURE
@given(st.one_of(texts, st.text(st.one_of(letters, tricky_chars), min_size=120, max_size=140)))
def test_passwords_are_8_to_128_characters_never_trimmed(raw):
    expected = 8 <= len(raw) <= 128 and "\x00" not in raw
    assert accepted(check_password, raw) == (expected, raw if expected else None)


# --- Tags -------------------------------------------------------------------------------

tag_names = st.one_of(
    texts, st.text(st.one_of(letters, st.sampled_from(SPACES)), min_size=38, max_size=60)
)


INVISIBLE = {"Cf", "Cc", "Co", "Cs", "Cn"}  # format, control, private, surrogate, unassigned


@PURE
@given(tag_names)
@example("sci\u200bfi")
@example("\uff53\uff43\uff49\uff46\uff49")  # fullwidth
def test_clean_tag_names_are_a_fixed_point_of_the_rule(raw):
    ok, name = accepted(clean_tag_name, raw)
    words = unicodedata.normalize("NFKC", raw).split()
    expected = " ".join(words)
    assert ok == (
        0 < len(expected) <= TAG_NAME_MAX_LENGTH
        and expected.isprintable()
        and not any(unicodedata.category(char) in INVISIBLE for char in expected)
    )
    if ok:
        assert name == expected and clean_tag_name(name) == name
        assert unicodedata.is_normalized("NFKC", name)
        assert tag_key(name) == tag_key(raw)


@PURE
@given(st.data(), tag_names)
def test_tag_keys_ignore_case_and_spacing(data, raw):
    ok, key = accepted(tag_key, raw)
    for other in all_cases(raw):
        assert accepted(tag_key, other) == (ok, key)
    variant = data.draw(case_variants(raw))
    gap = data.draw(st.sampled_from([" ", "  ", "\t", "\u3000", " \n "]))
    spaced = gap + gap.join(variant.split()) + gap  # other white space, more of it
    assert accepted(tag_key, variant) == (ok, key)
    if ok:
        assert accepted(tag_key, spaced) == (True, key)
        assert key == unicodedata.normalize("NFKC", key.casefold())  # folded, normalised
        wide = "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in variant)
        assert accepted(tag_key, wide) == (True, key)  # fullwidth forms are the same tag


# --- Books and reviews -------------------------------------------------------------------

LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
languages = st.one_of(
    st.from_regex(r"\A[a-zA-Z]{1,4}(-[a-zA-Z0-9]{1,9}){0,4}\Z"),
    texts,
    st.sampled_from(
        [
            "en",
            "EN ",
            " pt-BR",
            "zh-hant-tw",
            "e",
            "eng-",
            "x" * 36,
            "ab-" + "c" * 9,
            "\u212a\u212a",
        ]
    ),
)
counts = st.one_of(
    st.integers(-5, PAGE_COUNT_MAX + 5),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.sampled_from([1.0, 12.5, "12", None]),
)
days = st.one_of(st.dates(), st.datetimes(), st.sampled_from(["1969-03-01", 19690301, None]))


@PURE
@given(long_texts, days, counts, languages)
def test_books_accept_exactly_the_documented_ranges(title, published, pages, language):
    ok, details = accepted(BookDetails, title, "Le Guin", "Ace", published, pages, language)
    tag = language.strip().lower() if isinstance(language, str) else ""
    expected = (
        printable_trimmed(title, 255) is not None
        and isinstance(published, date)
        and not isinstance(published, datetime)
        and type(pages) is int
        and 1 <= pages <= PAGE_COUNT_MAX
        and LANGUAGE.fullmatch(tag) is not None
        and len(tag) <= 35
    )
    assert ok == expected
    if ok:
        assert details.title == printable_trimmed(title, 255)
        assert details.language == tag and details.language.isascii()
        assert BookDetails(*(getattr(details, f) for f in details.__slots__)) == details


@PURE
@given(
    st.one_of(
        st.integers(-3, 9),
        st.integers(),
        st.booleans(),
        st.floats(),
        st.sampled_from(["3", None, 3.0]),
    ),
    st.one_of(
        texts,
        st.text(
            min_size=REVIEW_TEXT_MAX_LENGTH - 2,
            max_size=REVIEW_TEXT_MAX_LENGTH + 3,
            alphabet="ab \n",
        ),
    ),
)
def test_reviews_accept_ratings_1_to_5_and_text_up_to_5000(rating, text):
    expected_rating = type(rating) is int and 1 <= rating <= 5
    assert accepted(check_rating, rating) == (expected_rating, rating if expected_rating else None)
    trimmed = unicodedata.normalize("NFC", text).strip()
    expected_text = 0 < len(trimmed) <= REVIEW_TEXT_MAX_LENGTH and "\x00" not in trimmed
    assert accepted(check_review_text, text) == (expected_text, trimmed if expected_text else None)


# --- Search: LIKE wildcards are literal -----------------------------------------------------

titles = st.text(
    st.one_of(letters, st.sampled_from("%_\\[]^*?' " + CASE_TRAPS), any_chars),
    min_size=1,
    max_size=40,
).filter(lambda t: printable_trimmed(t, 255) is not None)


def book_titled(title: str, owner_uid) -> Book:
    details = BookDetails(title, "Anon", "Press", date(2000, 1, 1), 10, "en")
    return Book.create(uuid4(), owner_uid, details, datetime.now(UTC))


async def search_finds(
    uow_factory, reads, owner_uid, title: str, start: int, stop: int, decoy: str
) -> None:
    """A book titled `title`, and one titled `decoy` that LIKE's wildcards would match."""
    book, other = book_titled(title, owner_uid), book_titled(decoy, owner_uid)
    async with uow_factory() as uow:
        await uow.books.add(book)
        await uow.books.add(other)
        await uow.commit()
    stored = book.title  # trimmed and normalised by BookDetails
    needle = stored[start:stop] or stored
    found = await reads.search(BookQuery(text=needle, owner_uid=owner_uid, limit=100))
    uids = {view.book.uid for view in found.items}
    assert book.uid in uids, (stored, needle)
    key = needle.casefold()
    expected = key in other.title.casefold() or key in other.author.casefold()
    assert (other.uid in uids) == expected, (needle, decoy)


def decoy_for(title: str) -> str:
    """The title with every character LIKE treats specially replaced by a plain letter."""
    return "".join("x" if char in "%_\\" else char for char in title)


@PURE
@given(titles, st.integers(0, 40), st.integers(0, 40))
async def test_a_search_for_any_part_of_a_title_finds_it_in_memory(title, start, stop):
    database, owner = MemoryDatabase(), make_user()
    database.users[owner.uid] = owner  # books go with their owner (ON DELETE CASCADE)
    await search_finds(
        database.unit_of_work,
        MemoryBookReads(database.unit_of_work),
        owner.uid,
        title,
        start,
        stop,
        decoy_for(title),
    )


@pytest.fixture(scope="module")
async def sqlite_books(tmp_path_factory):
    start_mappers()
    url = await migrated_sqlite_url(tmp_path_factory.mktemp("properties"))
    engine = create_engine(url)
    sessions = session_factory(engine)
    owner = make_user()
    async with SqlUnitOfWork(sessions) as uow:
        await uow.users.add(owner)
        await uow.commit()
    yield (lambda: SqlUnitOfWork(sessions)), SqlBookReads(EngineRows(engine)), owner.uid
    await engine.dispose()


@STORED
@given(titles, st.integers(0, 40), st.integers(0, 40))
async def test_a_search_for_any_part_of_a_title_finds_it_in_sqlite(
    sqlite_books, title, start, stop
):
    uow_factory, reads, owner_uid = sqlite_books
    await search_finds(uow_factory, reads, owner_uid, title, start, stop, decoy_for(title))
