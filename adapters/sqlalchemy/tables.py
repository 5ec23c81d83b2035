"""The schema, one `MetaData` for every table; migrations must produce exactly this."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)

from adapters.sqlalchemy.column_types import StringEnum, UtcDateTime
from application.ports.outbox import JobStatus
from domain.books import (
    AUTHOR_MAX_LENGTH,
    LANGUAGE_MAX_LENGTH,
    PUBLISHER_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from domain.tags import TAG_NAME_MAX_LENGTH
from domain.users import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, Role

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Index names that the unit of work translates into domain errors.
USERS_EMAIL_INDEX = "ix_users_email"
USERS_USERNAME_INDEX = "ix_users_username_lower"

users = Table(
    "users",
    metadata,
    Column("uid", Uuid, primary_key=True),
    Column("email", String(EMAIL_MAX_LENGTH), nullable=False),
    Column("username", String(32), nullable=False),
    Column("first_name", String(NAME_MAX_LENGTH), nullable=False),
    Column("last_name", String(NAME_MAX_LENGTH), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", StringEnum(Role, length=16), nullable=False),
    Column("is_verified", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("role IN ('admin', 'user', 'guest')", name="role"),
)
# Emails are stored normalised (lower-case), so a plain unique index suffices.
Index(USERS_EMAIL_INDEX, users.c.email, unique=True)
Index(USERS_USERNAME_INDEX, func.lower(users.c.username), unique=True)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column(
        "user_uid", Uuid, ForeignKey("users.uid", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("refresh_token_id", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

link_claims = Table(
    "link_claims",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# The first answer to a request sent with an Idempotency-Key, for its retries. While the
# request runs the answer columns are null and `expires_at` is its lease's end.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(64), primary_key=True),  # a hash of the caller and the client's key
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", SmallInteger),
    Column("headers", JSON),
    Column("body", LargeBinary),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# Books. `title_key` and `author_key` hold the case-folded title and author (kept by the
# repository), so matching and sorting are the same on PostgreSQL and SQLite, whose
# lower() knows only ASCII.
books = Table(
    "books",
    metadata,
    Column("uid", Uuid, primary_key=True),
    Column("owner_uid", Uuid, ForeignKey("users.uid", ondelete="CASCADE"), nullable=False),
    Column("title", String(TITLE_MAX_LENGTH), nullable=False),
    Column("title_key", Text, nullable=False),
    Column("author", String(AUTHOR_MAX_LENGTH), nullable=False),
    Column("author_key", Text, nullable=False),
    Column("publisher", String(PUBLISHER_MAX_LENGTH), nullable=False),
    Column("published_date", Date, nullable=False),
    Column("page_count", Integer, nullable=False),
    Column("language", String(LANGUAGE_MAX_LENGTH), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Reviews in figures, kept by the review use cases under the book's row lock.
    Column("review_count", Integer, nullable=False, server_default="0"),
    Column("rating_sum", Integer, nullable=False, server_default="0"),
    Column("average_rating", Float, nullable=True),
    CheckConstraint("page_count > 0", name="page_count_positive"),
)
# Every list is read in the order of an index, from a position (keyset pagination), so a
# page costs the same at any depth and in any size of catalogue: the whole catalogue and
# each equality filter (owner, language, author) have an index per sort (created_at,
# title, rating; each read forwards or backwards), ending in uid, the tie-breaker.
# Books without reviews (average_rating NULL) sort last both ways: a rating page reads
# the rated books from the index, then the unrated ones (`adapters/sqlalchemy/catalogue`).
SORT_COLUMNS = ("created_at", "title_key", "average_rating")
BOOK_FILTER_COLUMNS = ("owner_uid", "language", "author_key")


def _index(table: Table, *names: str, include: tuple[str, ...] = ()) -> Index:
    return Index(
        f"ix_{table.name}_{'_'.join(names)}",
        *(table.c[name] for name in names),
        postgresql_include=list(include),
    )


for _sort in SORT_COLUMNS:
    _index(books, _sort, "uid")
    for _filter in BOOK_FILTER_COLUMNS:
        _index(books, _filter, _sort, "uid")
# Substring search (`q`): trigram indexes on PostgreSQL (plain ones on SQLite).
Index(
    "ix_books_title_key_trgm",
    books.c.title_key,
    postgresql_using="gin",
    postgresql_ops={"title_key": "gin_trgm_ops"},
)
Index(
    "ix_books_author_key_trgm",
    books.c.author_key,
    postgresql_using="gin",
    postgresql_ops={"author_key": "gin_trgm_ops"},
)

reviews = Table(
    "reviews",
    metadata,
    Column("uid", Uuid, primary_key=True),
    Column("book_uid", Uuid, ForeignKey("books.uid", ondelete="CASCADE"), nullable=False),
    Column("user_uid", Uuid, ForeignKey("users.uid", ondelete="CASCADE"), nullable=False),
    Column("rating", SmallInteger, nullable=False),
    Column("review_text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    UniqueConstraint("user_uid", "book_uid"),  # one review per user per book
)
Index("ix_reviews_book_uid_created_at", reviews.c.book_uid, reviews.c.created_at, reviews.c.uid)
Index("ix_reviews_user_uid_created_at", reviews.c.user_uid, reviews.c.created_at, reviews.c.uid)
Index("ix_reviews_created_at_uid", reviews.c.created_at, reviews.c.uid)

tags = Table(
    "tags",
    metadata,
    Column("uid", Uuid, primary_key=True),
    Column("name", String(TAG_NAME_MAX_LENGTH), nullable=False),
    Column("name_key", String(4 * TAG_NAME_MAX_LENGTH), nullable=False),  # case-folded name
    Column("created_at", UtcDateTime, nullable=False),
)
Index("ix_tags_name_key", tags.c.name_key, unique=True)

# A book's tags. Each link carries copies of its book's sort keys that change only when
# the book is edited (created_at, title_key) and its language, kept by the book
# repository, so that one tag's books (in one language, if asked) are read by date or
# by title, either way, from an index of their own, whatever the tag.
book_tags = Table(
    "book_tags",
    metadata,
    Column("book_uid", Uuid, ForeignKey("books.uid", ondelete="CASCADE"), primary_key=True),
    Column("tag_uid", Uuid, ForeignKey("tags.uid", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("title_key", Text, nullable=False),
    Column("language", String(LANGUAGE_MAX_LENGTH), nullable=False),
)
LINK_SORT_COLUMNS = ("created_at", "title_key")
for _sort in LINK_SORT_COLUMNS:  # with the language at hand, a tag's pages in one language
    _index(book_tags, "tag_uid", _sort, "book_uid", include=("language",))
# The rating a tag's rating pages are read by: one row per link, with a copy of its book's
# average (and language), which every review of the book moves. A narrow table of its own
# with two indexes, so that a review rewrites these few entries and not every index of
# the links (migration 0010).
book_tag_ratings = Table(
    "book_tag_ratings",
    metadata,
    Column("book_uid", Uuid, primary_key=True),
    Column("tag_uid", Uuid, primary_key=True),
    Column("average_rating", Float, nullable=True),
    Column("language", String(LANGUAGE_MAX_LENGTH), nullable=False),
    ForeignKeyConstraint(
        ["book_uid", "tag_uid"], ["book_tags.book_uid", "book_tags.tag_uid"], ondelete="CASCADE"
    ),
)
_index(book_tag_ratings, "tag_uid", "average_rating", "book_uid", include=("language",))
# Exact sizes of the lists that have them (the catalogue, an owner's, a language's and a
# tag's books; all reviews and a user's; users; tags), kept by triggers (migration 0009)
# as signed changes appended in the writer's transaction: a list's size is the sum of
# its rows, and no writer waits for another to update a shared row. The triggers fold a
# list's rows into one now and then. `adapters/sqlalchemy/counts.py` names the lists.
catalogue_counts = Table(
    "catalogue_counts",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), Identity(), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("delta", BigInteger, nullable=False),
)
Index("ix_catalogue_counts_name_delta", catalogue_counts.c.name, catalogue_counts.c.delta)

# The transactional outbox: jobs written with the change that causes them (see
# application/ports/outbox.py). The relay's query reads only unfinished jobs by
# `available_at`, so its index leaves out the sent and failed ones that pile up.
OUTBOX_UNFINISHED = "status <> 'sent' AND status <> 'failed'"
outbox_jobs = Table(
    "outbox_jobs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("task_name", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("request_id", String(128)),
    Column("trace_context", JSON),  # W3C traceparent/tracestate of the job's cause
    Column("status", StringEnum(JobStatus, length=16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    CheckConstraint(
        "status IN ('pending', 'dispatched', 'sending', 'sent', 'failed')", name="status"
    ),
)
Index(
    "ix_outbox_jobs_due",
    outbox_jobs.c.available_at,
    postgresql_where=text(OUTBOX_UNFINISHED),
    sqlite_where=text(OUTBOX_UNFINISHED),
)
Index("ix_outbox_jobs_finished_at", outbox_jobs.c.finished_at)
_index(users, "created_at", "uid")  # the admins' user list, oldest first
