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
    Identity,
    Index,
    Integer,
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
from domain.books import AUTHOR_MAX_LENGTH, PUBLISHER_MAX_LENGTH, TITLE_MAX_LENGTH
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
        "user_uid",
        Uuid,
        ForeignKey("users.uid", ondelete="CASCADE"),
        nullable=False,
        index=True,
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
    Column("language", String(35), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Reviews in figures, kept by the review use cases under the book's row lock.
    Column("review_count", Integer, nullable=False, server_default="0"),
    Column("rating_sum", Integer, nullable=False, server_default="0"),
    Column("average_rating", Float, nullable=True),
    CheckConstraint("page_count > 0", name="page_count_positive"),
)
Index("ix_books_created_at_uid", books.c.created_at, books.c.uid)
Index("ix_books_owner_uid_created_at", books.c.owner_uid, books.c.created_at, books.c.uid)
Index("ix_books_title_key_uid", books.c.title_key, books.c.uid)
Index("ix_books_author_key", books.c.author_key)
Index("ix_books_language_created_at", books.c.language, books.c.created_at)
# Substring search (`q`): trigram indexes on PostgreSQL (plain ones on SQLite).
Index("ix_books_title_key_trgm", books.c.title_key, postgresql_using="gin",
      postgresql_ops={"title_key": "gin_trgm_ops"})
Index("ix_books_author_key_trgm", books.c.author_key, postgresql_using="gin",
      postgresql_ops={"author_key": "gin_trgm_ops"})
Index("ix_books_average_rating_uid", books.c.average_rating, books.c.uid)
Index("ix_books_average_rating_desc_uid", books.c.average_rating.desc().nulls_last(),
      books.c.uid.desc())
# How many books there are: one row, kept by triggers on `books` (migration 0006).
book_totals = Table(
    "book_totals",
    metadata,
    Column("singleton", Boolean, primary_key=True),
    Column("books", BigInteger, nullable=False),
    CheckConstraint("singleton", name="one_row"),
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
Index("ix_reviews_book_uid_created_at", reviews.c.book_uid, reviews.c.created_at,
      reviews.c.uid)
Index("ix_reviews_user_uid_created_at", reviews.c.user_uid, reviews.c.created_at,
      reviews.c.uid)
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

book_tags = Table(
    "book_tags",
    metadata,
    Column("book_uid", Uuid, ForeignKey("books.uid", ondelete="CASCADE"), primary_key=True),
    Column("tag_uid", Uuid, ForeignKey("tags.uid", ondelete="CASCADE"), primary_key=True),
)
Index("ix_book_tags_tag_uid_book_uid", book_tags.c.tag_uid, book_tags.c.book_uid)
# How many books carry each tag, for PostgreSQL's tag-filtered pages (migration 0007): a
# tag's count is the sum of its rows. Triggers on `book_tags` only append signed changes,
# one row per tag per statement, so writers never queue on a shared row, and fold a tag's
# rows back into one when they pile up. SQLite keeps no rows here; its pages count.
tag_link_counts = Table(
    "tag_link_counts",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), Identity(), primary_key=True),
    Column("tag_uid", Uuid, nullable=False),  # no foreign key: a deleted tag's rows sum to 0
    Column("links", BigInteger, nullable=False),
)
Index("ix_tag_link_counts_tag_uid_links", tag_link_counts.c.tag_uid, tag_link_counts.c.links)

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
Index("ix_outbox_jobs_due", outbox_jobs.c.available_at,
      postgresql_where=text(OUTBOX_UNFINISHED), sqlite_where=text(OUTBOX_UNFINISHED))
Index("ix_outbox_jobs_finished_at", outbox_jobs.c.finished_at)
