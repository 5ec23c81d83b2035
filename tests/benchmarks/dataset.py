"""The fixed benchmark dataset: 2,000 users, 10,000 books, 50,000 reviews, 50 tags and
30,000 book-tag links, the same on every run (one seeded random generator).

Popularity is skewed on purpose, as in a real catalogue: a few tags are on many books,
a few books have many reviews, and some books have none (`average_rating` null)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from domain.books import Book
from domain.tags import Tag

SEED = 8
USERS, BOOKS, REVIEWS, TAGS, LINKS = 2_000, 10_000, 50_000, 50, 30_000
LOGIN_ACCOUNTS = 65  # real argon2 hashes: account 0 for /auth/me, 1..64 for the login storm
PASSWORD = "benchmark correct horse battery"  # a throwaway account's
DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2htYXJr$bm90LWEtcmVhbC1oYXNoLW5vYm9keS1sb2dz"
BASE = datetime(2024, 1, 1, tzinfo=UTC)
TAG_NAMES = (
    "Fiction",
    "Fantasy",
    "Science Fiction",
    "Mystery",
    "History",
    "Biography",
    "Romance",
    "Thriller",
    "Classics",
    "Poetry",
    "Philosophy",
    "Science",
    "Travel",
    "Cooking",
    "Art",
    "Music",
    "Horror",
    "Humor",
    "Memoir",
    "Essays",
    "Politics",
    "Economics",
    "Psychology",
    "Religion",
    "Nature",
    "Mathematics",
    "Programming",
    "Design",
    "Architecture",
    "Drama",
    "Young Adult",
    "Children",
    "Graphic Novels",
    "Short Stories",
    "Crime",
    "Adventure",
    "War",
    "Sports",
    "Health",
    "Education",
    "Business",
    "Law",
    "Medicine",
    "Engineering",
    "Astronomy",
    "Linguistics",
    "Folklore",
    "Anthology",
    "Satire",
    "Westerns",
)
WORDS = (
    "river",
    "stone",
    "light",
    "winter",
    "garden",
    "silent",
    "city",
    "house",
    "night",
    "road",
    "glass",
    "letter",
    "storm",
    "harbour",
    "orchard",
    "salt",
    "iron",
    "paper",
    "lantern",
    "mountain",
    "quiet",
    "long",
    "last",
    "small",
    "golden",
    "north",
    "hidden",
    "broken",
    "bright",
    "distant",
    "little",
)
FIRST = (
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
)
LAST = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Backus",
)
PUBLISHERS = (
    "Northwind Press",
    "Harbour Books",
    "Lantern House",
    "Orchard & Salt",
    "Iron Road Editions",
    "Paper Garden",
)
LANGUAGES, LANGUAGE_WEIGHTS = ("en", "de", "fr", "es", "pt-br"), (70, 10, 8, 8, 4)
RATING_WEIGHTS = (5, 10, 20, 35, 30)


@dataclass
class Dataset:
    users: list[tuple] = field(default_factory=list)  # rows in USER_COLUMNS order
    books: list[Book] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    links: list[tuple[UUID, UUID]] = field(default_factory=list)  # (book_uid, tag_uid)
    reviews: list[tuple] = field(default_factory=list)  # rows in REVIEW_COLUMNS order
    detail_book: UUID | None = None  # a book with >= 10 reviews and >= 3 tags
    popular_tag: str = ""

    def email(self, account: int) -> str:
        return f"reader{account:04d}@bench.bookly.test"


USER_COLUMNS = (
    "uid",
    "email",
    "username",
    "first_name",
    "last_name",
    "password_hash",
    "role",
    "is_verified",
    "is_active",
    "created_at",
    "updated_at",
)
REVIEW_COLUMNS = (
    "uid",
    "book_uid",
    "user_uid",
    "rating",
    "review_text",
    "created_at",
    "updated_at",
)


def generate(login_hash: list[str]) -> Dataset:
    """`login_hash[i]` is the real hash of account i (i < LOGIN_ACCOUNTS)."""
    rng = random.Random(SEED)

    def uid() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    data = Dataset()
    for i in range(USERS):
        when = BASE + timedelta(minutes=i)
        data.users.append(
            (
                uid(),
                data.email(i),
                f"reader{i:04d}",
                rng.choice(FIRST),
                rng.choice(LAST),
                login_hash[i] if i < LOGIN_ACCOUNTS else DUMMY_HASH,
                "user",
                True,
                True,
                when,
                when,
            )
        )
    for i in range(BOOKS):
        when = BASE + timedelta(days=30, seconds=97 * i)
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))).title()
        data.books.append(
            Book(
                uid(),
                data.users[rng.randrange(USERS)][0],
                f"{title} {i}",
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                rng.choice(PUBLISHERS),
                date(1950, 1, 1) + timedelta(days=rng.randrange(27_000)),
                rng.randint(60, 900),
                rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0],
                when,
                when,
            )
        )
    data.tags = [Tag(uid(), name, BASE) for name in TAG_NAMES]
    _link(rng, data)
    _review(rng, data, uid)
    return data


def _link(rng: random.Random, data: Dataset) -> None:
    weights = [1 / (rank + 1) ** 0.9 for rank in range(TAGS)]  # Zipf-like tag popularity
    seen: set[tuple[int, int]] = set()
    while len(seen) < LINKS:
        pair = (rng.randrange(BOOKS), rng.choices(range(TAGS), weights)[0])
        seen.add(pair)
    for book, tag in sorted(seen):
        data.links.append((data.books[book].uid, data.tags[tag].uid))
    counts = [0] * TAGS
    for _, tag in seen:
        counts[tag] += 1
    data.popular_tag = TAG_NAMES[max(range(TAGS), key=counts.__getitem__)]


def _review(rng: random.Random, data: Dataset, uid) -> None:
    seen: set[tuple[int, int]] = set()
    while len(seen) < REVIEWS:  # book popularity falls off as 1/sqrt(rank)
        seen.add((rng.randrange(USERS), int(BOOKS * rng.random() ** 2)))
    per_book = [0] * BOOKS
    for user, book in sorted(seen):
        per_book[book] += 1
        when = data.books[book].created_at + timedelta(minutes=rng.randrange(500_000))
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 60))).capitalize()
        data.reviews.append(
            (
                uid(),
                data.books[book].uid,
                data.users[user][0],
                rng.choices(range(1, 6), RATING_WEIGHTS)[0],
                text + ".",
                when,
                when,
            )
        )
    tagged = {book_uid for book_uid, _ in data.links}
    tag_count: dict[UUID, int] = {}
    for book_uid, _ in data.links:
        tag_count[book_uid] = tag_count.get(book_uid, 0) + 1
    # A book from the middle of the popularity curve: full pages, not the extreme one.
    for index in range(BOOKS // 50, BOOKS):
        book_uid = data.books[index].uid
        if per_book[index] >= 10 and book_uid in tagged and tag_count[book_uid] >= 3:
            data.detail_book = book_uid
            break
