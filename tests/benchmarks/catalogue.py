"""The scale benchmark's catalogue: a seeded, synthetic catalogue of any size N, shaped as
a real one and scaled linearly with N, generated as rows for PostgreSQL COPY.

Shape (shares of N):
- users: N/10 (at least 1,000), plus a few accounts of the benchmark's own: an admin, the
  writers (who own and review nothing, so that every review they post is their first on
  that book), the prolific owner and the prolific reviewer. Every account has the same
  password (one argon2id hash, the service's parameters).
- books: the prolific owner holds 5 %; the others belong to ordinary users, a few each.
  Titles are made of words; `alpha` is one of them in 10 % of titles and appears nowhere
  else (no other word, no author contains it), so `q=alpha` matches 10 % of the books.
  Five prolific authors write 1 % each; the rest come from a pool of N/4 names (a few
  books each). Languages: en 60 %, fr, de, es 10 % each, pt-br 5 %, five others 1 % each.
  `created_at` grows with the book's position over six years, distinct to the microsecond.
- tags: 50, three distinct ones on every book; popularity falls off as a power of its
  rank (the first tag is on about a third of the books, the last on under 3 %), except the
  common tag (`Pulp`), which is on 6 %.
- reviews: 2N on average. The hot book has N/10 of them (one from each ordinary user), the
  prolific reviewer N/100, the other books a skewed number each (many none, a few dozens).
  A book's ratings scatter around a mean set by its tags: `Classics` rate high, `Pulp` low,
  so that finding the common tag's books by walking the catalogue from its best-rated end
  is the worst case.

Which column of which table gets what is written in one place, the row functions below
(`ROWS`); books take their columns from the repository's own `book_values` (so derived
keys follow the code), plus their review figures, computed here as the review use cases
keep them. Whatever else the schema derives (totals, counts), its triggers do as the rows
arrive."""

from __future__ import annotations

import bisect
import hashlib
import inspect
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from adapters.sqlalchemy.books import book_values
from domain.books import Book
from domain.tags import Tag
from tests.benchmarks import dataset

SEED = 2026
BASE = datetime(2019, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=6 * 365)
PASSWORD = dataset.PASSWORD
SEARCH_WORD = "alpha"
SEARCH_SHARE = 0.10
COMMON_TAG, COMMON_TAG_SHARE = "Pulp", 0.06
TAG_NAMES = (*dataset.TAG_NAMES[:49], COMMON_TAG)  # 50 tags
TAGS_PER_BOOK = 3
TAG_POPULARITY_EXPONENT = 0.7  # weight of the k-th tag: 1 / k^0.7
TAG_EFFECTS = {
    "Classics": 1.0,
    "Poetry": 0.4,
    "Philosophy": 0.3,
    "Humor": 0.2,
    "Horror": -0.3,
    "Romance": -0.2,
    COMMON_TAG: -1.7,
}  # on a book's mean rating
MEAN_RATING, RATING_SPREAD = 3.7, 0.9
PROLIFIC_OWNER_SHARE = 0.05
PROLIFIC_AUTHORS = (
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Edsger Dijkstra",
    "Barbara Liskov",
)
PROLIFIC_AUTHOR_SHARE = 0.01  # each
LANGUAGES = (
    ("en", 60),
    ("fr", 10),
    ("de", 10),
    ("es", 10),
    ("pt-br", 5),
    ("it", 1),
    ("nl", 1),
    ("sv", 1),
    ("pl", 1),
    ("ja", 1),
)
REVIEW_COUNT_SHAPE = 0.6  # gamma shape of the ordinary books' review counts: skewed
WRITERS = 4
# Accounts by number: the benchmark's own first, then the ordinary users.
ADMIN, FIRST_WRITER = 0, 1
PROLIFIC_OWNER, PROLIFIC_REVIEWER = FIRST_WRITER + WRITERS, FIRST_WRITER + WRITERS + 1
ORDINARY = PROLIFIC_REVIEWER + 1

MORE_WORDS = (
    "anchor",
    "amber",
    "autumn",
    "bridge",
    "candle",
    "cedar",
    "chapter",
    "cloud",
    "copper",
    "crown",
    "dawn",
    "desert",
    "dream",
    "echo",
    "ember",
    "field",
    "forest",
    "fountain",
    "frost",
    "gate",
    "harvest",
    "heart",
    "island",
    "ivory",
    "journey",
    "kingdom",
    "lake",
    "meadow",
    "mirror",
    "moon",
    "ocean",
    "owl",
    "pearl",
    "pine",
    "prairie",
    "raven",
    "ribbon",
    "saga",
    "shadow",
    "shore",
    "silver",
    "sky",
    "song",
    "spring",
    "star",
    "summer",
    "thread",
    "tide",
    "tower",
    "valley",
    "velvet",
    "voyage",
    "wander",
    "willow",
    "wind",
    "wolf",
    "year",
)
WORDS = tuple(dict.fromkeys(dataset.WORDS + MORE_WORDS))
FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Niklaus",
    "Ines",
    "Tomas",
    "Lena",
    "Omar",
    "Yuki",
    "Priya",
    "Mateo",
    "Sofia",
    "Arjun",
    "Chloe",
    "Dmitri",
    "Elif",
    "Farah",
    "Goran",
    "Hana",
    "Ivan",
    "Jonas",
    "Kofi",
    "Lucia",
    "Marek",
    "Nadia",
    "Oscar",
    "Paula",
    "Rafael",
    "Sana",
    "Tariq",
    "Ursula",
    "Viktor",
)
SYLLABLES = (
    "bar",
    "ben",
    "cor",
    "dan",
    "del",
    "fen",
    "gar",
    "hol",
    "kan",
    "lin",
    "mor",
    "nes",
    "ost",
    "pel",
    "quin",
    "ros",
    "san",
    "tor",
    "val",
    "wen",
    "yar",
    "zel",
    "ber",
    "mar",
)
for _text in (*WORDS, *FIRST_NAMES, *SYLLABLES, *PROLIFIC_AUTHORS):
    # The search word appears in no other word or name, and none can spell it across a
    # boundary (it needs a 'ph').
    assert SEARCH_WORD not in _text.casefold() and "ph" not in _text.casefold(), _text


@dataclass(frozen=True)
class Shape:
    """The catalogue's parameters: everything follows from its size and the seed."""

    books: int
    seed: int = SEED

    @property
    def ordinary_users(self) -> int:
        return max(1000, self.books // 10)

    @property
    def users(self) -> int:
        return ORDINARY + self.ordinary_users

    @property
    def hot_book(self) -> int:
        return self.books // 10  # early enough that its reviews span years

    @property
    def hot_book_reviews(self) -> int:
        return self.books // 10  # one from each ordinary user, at most

    @property
    def prolific_reviews(self) -> int:
        return self.books // 100

    @property
    def reviews(self) -> int:
        return 2 * self.books  # on average

    @property
    def authors(self) -> int:
        return max(100, self.books // 4)

    def fingerprint(self) -> str:
        """Changes with the parameters and with the code that makes the rows, so a kept
        catalogue is never taken for another one."""
        import tests.benchmarks.catalogue as this

        digest = hashlib.sha256(repr(self).encode())
        digest.update(inspect.getsource(this).encode())
        return digest.hexdigest()[:8]


def email(account: int) -> str:
    return "admin@scale.bookly.test" if account == ADMIN else f"user{account:07d}@scale.bookly.test"


def writer_emails() -> list[str]:
    return [email(FIRST_WRITER + i) for i in range(WRITERS)]


# Rows: which columns each table gets, in the order of its COPY. The one place that knows.
USER_COLUMNS = dataset.USER_COLUMNS
TAG_COLUMNS = ("uid", "name", "name_key", "created_at")
LINK_COLUMNS = ("book_uid", "tag_uid", "created_at", "title_key", "language")
LINK_RATING_COLUMNS = ("book_uid", "tag_uid", "average_rating", "language")
REVIEW_COLUMNS = dataset.REVIEW_COLUMNS
FIGURES = ("review_count", "rating_sum", "average_rating")  # as the review use cases keep them
_SAMPLE = Book(UUID(int=0), UUID(int=0), "t", "a", "p", date(2000, 1, 1), 1, "en", BASE, BASE)
BOOK_COLUMNS = (*book_values(_SAMPLE), *FIGURES)


def user_row(uid: UUID, account: int, password_hash: str, when: datetime) -> tuple:
    role = "admin" if account == ADMIN else "user"
    return (
        uid,
        email(account),
        f"user{account:07d}",
        FIRST_NAMES[account % len(FIRST_NAMES)],
        "Reader",
        password_hash,
        role,
        True,
        True,
        when,
        when,
    )


def tag_row(tag: Tag) -> tuple:
    return (tag.uid, tag.name, tag.key, tag.created_at)


def book_row(book: Book, ratings: list[int]) -> tuple:
    total = sum(ratings)
    return (
        *book_values(book).values(),
        len(ratings),
        total,
        total / len(ratings) if ratings else None,
    )


def review_row(uid: UUID, book: Book, user: UUID, rating: int, text: str, when: datetime) -> tuple:
    return (uid, book.uid, user, rating, text, when, when)


ROWS = {
    "users": USER_COLUMNS,
    "tags": TAG_COLUMNS,
    "books": BOOK_COLUMNS,
    "book_tags": LINK_COLUMNS,
    "book_tag_ratings": LINK_RATING_COLUMNS,
    "reviews": REVIEW_COLUMNS,
}  # in COPY order


@dataclass
class Chunk:
    """Consecutive books with their links and reviews (rows in ROWS order)."""

    books: list[tuple] = field(default_factory=list)
    book_tags: list[tuple] = field(default_factory=list)
    book_tag_ratings: list[tuple] = field(default_factory=list)
    reviews: list[tuple] = field(default_factory=list)


class Catalogue:
    """Rows of one catalogue, made in one pass by one seeded generator: first the users and
    the tags, then the books in chunks (call them in that order, each once)."""

    def __init__(self, shape: Shape, password_hash: str) -> None:
        self.shape, self._hash = shape, password_hash
        self._rng = random.Random(shape.seed)
        self._users = [self._uid() for _ in range(shape.users)]
        self._tags = [Tag(self._uid(), name, BASE) for name in TAG_NAMES]
        ranked = [i for i, name in enumerate(TAG_NAMES) if name != COMMON_TAG]
        weights = [1 / (rank + 1) ** TAG_POPULARITY_EXPONENT for rank in range(len(ranked))]
        self._ranked, self._cumulative = ranked, _cumulative(weights)
        self._common = TAG_NAMES.index(COMMON_TAG)
        self._effects = [TAG_EFFECTS.get(name, 0.0) for name in TAG_NAMES]
        self._languages = [code for code, _ in LANGUAGES]
        self._language_weights = _cumulative([weight for _, weight in LANGUAGES])
        self._texts = [
            " ".join(self._rng.choice(WORDS) for _ in range(self._rng.randint(8, 40))).capitalize()
            + "."
            for _ in range(1000)
        ]
        ordinary_reviews = shape.reviews - shape.hot_book_reviews - shape.prolific_reviews
        self._reviews_per_book = ordinary_reviews / (shape.books - 1)
        self._prolific_books = set(self._rng.sample(range(shape.books), shape.prolific_reviews))

    def _uid(self) -> UUID:
        return UUID(int=self._rng.getrandbits(128), version=4)

    def users(self) -> list[tuple]:
        step = SPAN / self.shape.users
        return [
            user_row(uid, account, self._hash, BASE - SPAN / 6 + step * account)
            for account, uid in enumerate(self._users)
        ]

    def tags(self) -> list[tuple]:
        return [tag_row(tag) for tag in self._tags]

    def chunks(self, size: int) -> Iterator[Chunk]:
        for start in range(0, self.shape.books, size):
            chunk = Chunk()
            for index in range(start, min(start + size, self.shape.books)):
                self._book(index, chunk)
            yield chunk

    def _book(self, index: int, chunk: Chunk) -> None:
        rng, shape = self._rng, self.shape
        when = BASE + SPAN * ((index + rng.random()) / shape.books)
        owner = (
            PROLIFIC_OWNER
            if rng.random() < PROLIFIC_OWNER_SHARE
            else ORDINARY + rng.randrange(shape.ordinary_users)
        )
        book = Book(
            self._uid(),
            self._users[owner],
            self._title(),
            self._author(),
            rng.choice(dataset.PUBLISHERS),
            date(1900, 1, 1) + timedelta(days=rng.randrange(45_000)),
            rng.randint(40, 1200),
            self._languages[bisect.bisect(self._language_weights, rng.random())],
            when,
            when,
        )
        tags = self._tag_numbers()
        mean = min(4.8, max(1.2, MEAN_RATING + sum(self._effects[tag] for tag in tags)))
        ratings: list[int] = []
        for user in self._reviewers(index):
            rating = min(5, max(1, round(rng.gauss(mean, RATING_SPREAD))))
            ratings.append(rating)
            later = when + (BASE + SPAN - when) * rng.random()
            chunk.reviews.append(
                review_row(
                    self._uid(), book, self._users[user], rating, rng.choice(self._texts), later
                )
            )
        row = book_row(book, ratings)
        chunk.books.append(row)
        keys = dict(zip(BOOK_COLUMNS, row, strict=True))  # the link's copies of its book's
        for tag in tags:
            chunk.book_tags.append(
                (
                    book.uid,
                    self._tags[tag].uid,
                    keys["created_at"],
                    keys["title_key"],
                    keys["language"],
                )
            )
            chunk.book_tag_ratings.append(
                (book.uid, self._tags[tag].uid, keys["average_rating"], keys["language"])
            )

    def _title(self) -> str:
        rng = self._rng
        words = [rng.choice(WORDS) for _ in range(rng.randint(2, 5))]
        if rng.random() < SEARCH_SHARE:
            words[rng.randrange(len(words))] = SEARCH_WORD
        return " ".join(words).title()

    def _author(self) -> str:
        rng = self._rng
        if rng.random() < PROLIFIC_AUTHOR_SHARE * len(PROLIFIC_AUTHORS):
            return rng.choice(PROLIFIC_AUTHORS)
        number = rng.randrange(self.shape.authors)
        first, number = FIRST_NAMES[number % len(FIRST_NAMES)], number // len(FIRST_NAMES)
        surname = ""
        for _ in range(3):
            number, syllable = divmod(number, len(SYLLABLES))
            surname += SYLLABLES[syllable]
        return f"{first} {surname.capitalize()}"

    def _tag_numbers(self) -> list[int]:
        rng = self._rng
        chosen = [self._common] if rng.random() < COMMON_TAG_SHARE else []
        while len(chosen) < TAGS_PER_BOOK:
            tag = self._ranked[bisect.bisect(self._cumulative, rng.random())]
            if tag not in chosen:
                chosen.append(tag)
        return chosen

    def _reviewers(self, index: int) -> list[int]:
        """Account numbers of the book's reviewers, each at most once."""
        rng, shape = self._rng, self.shape
        ordinary = range(ORDINARY, ORDINARY + shape.ordinary_users)
        if index == shape.hot_book:
            found = rng.sample(ordinary, shape.hot_book_reviews)
        else:
            expected = rng.gammavariate(
                REVIEW_COUNT_SHAPE, self._reviews_per_book / REVIEW_COUNT_SHAPE
            )
            count = min(int(expected) + (rng.random() < expected % 1), shape.ordinary_users)
            found = rng.sample(ordinary, count)
        if index in self._prolific_books:
            found.append(PROLIFIC_REVIEWER)
        return found


def _cumulative(weights: list[float]) -> list[float]:
    """Cumulative shares ending at 1, for `bisect` with a uniform draw."""
    total, running, found = sum(weights), 0.0, []
    for weight in weights:
        running += weight
        found.append(running / total)
    found[-1] = 1.0
    return found
