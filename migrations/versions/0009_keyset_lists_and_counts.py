"""Lists read in index order from a position, and their sizes kept without a hot row.

- Indexes for keyset pages: for the whole catalogue and for each equality filter
  (owner, language, author), one per sort (created_at, title, rating), ending in uid;
  users by (created_at, uid).
- `book_tags` carries copies of its book's sort keys (created_at, title_key,
  average_rating) and language, indexed per tag (the language included, on PostgreSQL),
  so one tag's books, in one language if asked, are read in any order from an index of
  their own, whatever the tag. The book repository keeps the copies.
- `catalogue_counts` replaces `book_totals` (one row that every book write updated, so
  book writes queued behind each other) and `tag_link_counts`: the size of each list
  that has an exact total is the sum of its signed rows, appended by triggers in the
  writer's transaction. One statement in 16, at random, also folds the rows of the lists
  it touched into one each (PostgreSQL: if it can take the fold's advisory lock without
  waiting; SQLite has one writer at a time): a list holds about 16 rows whatever its
  size, and the common write only appends. Names: `books`, `books:owner:<hex>`,
  `books:language:<tag>`, `books:tag:<hex>`, `reviews`, `reviews:user:<hex>`, `users`,
  `tags` (uids as 32 hex digits, as SQLite stores them).

PostgreSQL takes SHARE ROW EXCLUSIVE locks on the counted tables while it counts what
is there and adds the triggers: a running service's writes wait for this migration.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORTS = ("created_at", "title_key", "average_rating")
BOOK_FILTERS = ("owner_uid", "language", "author_key")
OLD_BOOK_INDEXES = (
    "ix_books_owner_uid_created_at",
    "ix_books_author_key",
    "ix_books_language_created_at",
    "ix_books_average_rating_desc_uid",
)
COUNTED = ("books", "book_tags", "reviews", "users", "tags")
FOLD_ONE_IN = 16  # statements, at random, that fold the lists they touched


def uid_hex(column: str, postgresql: bool) -> str:
    return f"replace({column}::text, '-', '')" if postgresql else column


def count_names(table: str, row: str, postgresql: bool) -> list[str]:
    """The names of the lists a row of `table` (aliased `row`) counts in, as SQL."""

    def uid(column: str) -> str:
        return uid_hex(f"{row}.{column}", postgresql)

    return {
        "books": [
            "'books'",
            f"'books:owner:' || {uid('owner_uid')}",
            f"'books:language:' || {row}.language",
        ],
        "book_tags": [f"'books:tag:' || {uid('tag_uid')}"],
        "reviews": ["'reviews'", f"'reviews:user:' || {uid('user_uid')}"],
        "users": ["'users'"],
        "tags": ["'tags'"],
    }[table]


def _postgresql_function(table: str) -> str:
    def deltas(alias: str, sign: str) -> str:
        return " UNION ALL ".join(
            f"SELECT {name} AS name, {sign} AS delta FROM {alias} r"
            for name in count_names(table, "r", True)
        )

    def appended(alias: str, sign: str) -> str:
        return (
            f"WITH appended AS (INSERT INTO catalogue_counts (name, delta) "
            f"SELECT name, sum(delta) FROM ({deltas(alias, sign)}) d GROUP BY name "
            f"RETURNING name) SELECT array_agg(name) INTO touched FROM appended;"
        )

    return f"""CREATE FUNCTION catalogue_counts_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        touched text[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {appended("added", "1")}
        ELSE
            {appended("removed", "-1")}
        END IF;
        PERFORM catalogue_counts_fold(touched);
        RETURN NULL;
    END $$"""


POSTGRESQL_FOLD = f"""CREATE FUNCTION catalogue_counts_fold(names text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF random() * {FOLD_ONE_IN} < 1 THEN
        PERFORM catalogue_counts_fold_now(names);
    END IF;
END $$"""
# The fold deletes the rows it can see and inserts their sums in one statement, so a
# reader sees either; another writer's uncommitted rows are not seen and stay.
POSTGRESQL_FOLD_NOW = """CREATE FUNCTION catalogue_counts_fold_now(names text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock('catalogue_counts'::regclass::oid::integer, 0) THEN
        WITH folded AS (
            DELETE FROM catalogue_counts c WHERE c.name = ANY (names)
            RETURNING c.name, c.delta
        )
        INSERT INTO catalogue_counts (name, delta)
        SELECT name, sum(delta) FROM folded GROUP BY name HAVING sum(delta) <> 0;
    END IF;
END $$"""
# A book that changes owner or language moves between those lists (row by row: only
# when one of them really changed, which a catalogue PATCH rarely does).
POSTGRESQL_BOOK_MOVED = """CREATE FUNCTION catalogue_counts_book_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched text[];
BEGIN
    WITH appended AS (
        INSERT INTO catalogue_counts (name, delta) VALUES
            ('books:owner:' || replace(OLD.owner_uid::text, '-', ''), -1),
            ('books:language:' || OLD.language, -1),
            ('books:owner:' || replace(NEW.owner_uid::text, '-', ''), 1),
            ('books:language:' || NEW.language, 1)
        RETURNING name)
    SELECT array_agg(name) INTO touched FROM appended;
    PERFORM catalogue_counts_fold(touched);
    RETURN NULL;
END $$"""
BOOK_MOVED_WHEN = (
    "OLD.owner_uid IS DISTINCT FROM NEW.owner_uid OR OLD.language IS DISTINCT FROM NEW.language"
)


def _emptied_condition(table: str) -> str:
    prefixes = {
        "books": ("books:owner:", "books:language:"),
        "book_tags": ("books:tag:",),
        "reviews": ("reviews:user:",),
    }.get(table, ())
    exact = {"books": "books", "reviews": "reviews", "users": "users", "tags": "tags"}
    parts = [f"name LIKE '{prefix}%'" for prefix in prefixes]
    if table in exact:
        parts.append(f"name = '{exact[table]}'")
    return " OR ".join(parts)


def _postgresql_statements() -> list[str]:
    statements = [POSTGRESQL_FOLD_NOW, POSTGRESQL_FOLD, POSTGRESQL_BOOK_MOVED]
    for table in COUNTED:
        statements += [
            _postgresql_function(table),
            f"""CREATE FUNCTION catalogue_counts_{table}_emptied() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN DELETE FROM catalogue_counts
            WHERE {_emptied_condition(table)}; RETURN NULL; END $$""",
            f"""CREATE TRIGGER catalogue_counts_{table}_added AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS added FOR EACH STATEMENT
            EXECUTE FUNCTION catalogue_counts_{table}()""",
            f"""CREATE TRIGGER catalogue_counts_{table}_removed AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
            EXECUTE FUNCTION catalogue_counts_{table}()""",
            f"""CREATE TRIGGER catalogue_counts_{table}_emptied AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION catalogue_counts_{table}_emptied()""",
        ]
    statements.append(f"""CREATE TRIGGER catalogue_counts_book_moved
    AFTER UPDATE OF owner_uid, language ON books FOR EACH ROW WHEN ({BOOK_MOVED_WHEN})
    EXECUTE FUNCTION catalogue_counts_book_moved()""")
    return statements


def _sqlite_statements() -> list[str]:
    def values(table: str, row: str, sign: str) -> str:
        return ", ".join(f"({name}, {sign})" for name in count_names(table, row, False))

    statements = []
    for table in COUNTED:
        statements += [
            f"""CREATE TRIGGER catalogue_counts_{table}_added AFTER INSERT ON {table}
            BEGIN INSERT INTO catalogue_counts (name, delta)
            VALUES {values(table, "NEW", "1")}; END""",
            f"""CREATE TRIGGER catalogue_counts_{table}_removed AFTER DELETE ON {table}
            BEGIN INSERT INTO catalogue_counts (name, delta)
            VALUES {values(table, "OLD", "-1")}; END""",
        ]
    statements += [
        f"""CREATE TRIGGER catalogue_counts_book_moved AFTER UPDATE OF owner_uid, language
        ON books WHEN {BOOK_MOVED_WHEN} BEGIN INSERT INTO catalogue_counts (name, delta)
        VALUES ('books:owner:' || OLD.owner_uid, -1), ('books:language:' || OLD.language, -1),
        ('books:owner:' || NEW.owner_uid, 1), ('books:language:' || NEW.language, 1); END""",
        # Inserts made by this trigger do not fire it again (no recursive triggers).
        f"""CREATE TRIGGER catalogue_counts_fold AFTER INSERT ON catalogue_counts
        WHEN abs(random()) % {FOLD_ONE_IN} = 0
        BEGIN
            INSERT INTO catalogue_counts (name, delta)
            SELECT NEW.name, sum(delta) FROM catalogue_counts WHERE name = NEW.name
            HAVING sum(delta) <> 0;
            DELETE FROM catalogue_counts WHERE name = NEW.name AND id <= NEW.id;
        END""",
    ]
    return statements


def _backfill(postgresql: bool) -> None:
    for table in COUNTED:
        for name in count_names(table, "r", postgresql):
            op.execute(
                f"INSERT INTO catalogue_counts (name, delta) SELECT {name}, count(*) "
                f"FROM {table} r GROUP BY 1"
            )


def _sort_copies_upgrade(postgresql: bool) -> None:
    with op.batch_alter_table("book_tags") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("title_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("average_rating", sa.Float(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(35), nullable=True))
    if postgresql:
        op.execute(
            "UPDATE book_tags bt SET created_at = b.created_at, "
            "title_key = b.title_key, average_rating = b.average_rating, "
            "language = b.language FROM books b WHERE b.uid = bt.book_uid"
        )
    else:
        op.execute(
            "UPDATE book_tags SET (created_at, title_key, average_rating, language) = "
            "(SELECT b.created_at, b.title_key, b.average_rating, b.language "
            "FROM books b WHERE b.uid = book_tags.book_uid)"
        )
    with op.batch_alter_table("book_tags") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column("title_key", existing_type=sa.Text(), nullable=False)
        batch.alter_column("language", existing_type=sa.String(35), nullable=False)
        batch.drop_index("ix_book_tags_tag_uid_book_uid")
    for sort in SORTS:
        op.create_index(
            f"ix_book_tags_tag_uid_{sort}_book_uid",
            "book_tags",
            ["tag_uid", sort, "book_uid"],
            postgresql_include=["language"],
        )


def _book_indexes_upgrade() -> None:
    for name in OLD_BOOK_INDEXES:
        op.drop_index(name, table_name="books")
    for sort in SORTS:
        for column in BOOK_FILTERS:
            op.create_index(f"ix_books_{column}_{sort}_uid", "books", [column, sort, "uid"])
    op.create_index("ix_users_created_at_uid", "users", ["created_at", "uid"])


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _book_indexes_upgrade()
    _sort_copies_upgrade(postgresql)
    op.create_table(
        "catalogue_counts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_counts")),
    )
    op.create_index("ix_catalogue_counts_name_delta", "catalogue_counts", ["name", "delta"])
    if postgresql:
        op.execute(f"LOCK TABLE {', '.join(COUNTED)} IN SHARE ROW EXCLUSIVE MODE")
    _drop_old_counts(postgresql)
    _backfill(postgresql)
    for statement in _postgresql_statements() if postgresql else _sqlite_statements():
        op.execute(statement)


def _drop_old_counts(postgresql: bool) -> None:
    old = {
        "books": ("book_totals_added", "book_totals_removed", "book_totals_emptied"),
        "book_tags": (
            "tag_link_counts_added",
            "tag_link_counts_removed",
            "tag_link_counts_moved",
            "tag_link_counts_emptied",
        ),
    }
    for table, triggers in old.items():
        for trigger in triggers:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        for function in (
            "book_totals_added",
            "book_totals_removed",
            "book_totals_emptied",
            "tag_link_counts_changed",
            "tag_link_counts_emptied",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_tag_link_counts_tag_uid_links", table_name="tag_link_counts")
    op.drop_table("tag_link_counts")
    op.drop_table("book_totals")


def _revision(stem: str) -> ModuleType:
    """An earlier revision's module, to redo what it did."""
    path = Path(__file__).with_name(f"{stem}.py")
    spec = importlib.util.spec_from_file_location(f"bookly_revision_{stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    triggers = [
        f"catalogue_counts_{table}_{event}"
        for table in COUNTED
        for event in ("added", "removed", "emptied")
    ]
    triggers += ["catalogue_counts_book_moved", "catalogue_counts_fold"]
    tables = {
        f"catalogue_counts_{t}_{e}": t for t in COUNTED for e in ("added", "removed", "emptied")
    }
    tables.update(catalogue_counts_book_moved="books", catalogue_counts_fold="catalogue_counts")
    for trigger in triggers:
        op.execute(
            f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {tables[trigger]}" if postgresql else "")
        )
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS catalogue_counts_fold(text[])")
        op.execute("DROP FUNCTION IF EXISTS catalogue_counts_fold_now(text[])")
        op.execute("DROP FUNCTION IF EXISTS catalogue_counts_book_moved()")
        for table in COUNTED:
            op.execute(f"DROP FUNCTION IF EXISTS catalogue_counts_{table}()")
            op.execute(f"DROP FUNCTION IF EXISTS catalogue_counts_{table}_emptied()")
    op.drop_index("ix_catalogue_counts_name_delta", table_name="catalogue_counts")
    op.drop_table("catalogue_counts")
    _revision("0006_book_totals").upgrade()
    _revision("0007_tag_link_counts").upgrade()
    for sort in SORTS:
        op.drop_index(f"ix_book_tags_tag_uid_{sort}_book_uid", table_name="book_tags")
    with op.batch_alter_table("book_tags") as batch:
        batch.drop_column("language")
        batch.drop_column("average_rating")
        batch.drop_column("title_key")
        batch.drop_column("created_at")
        batch.create_index("ix_book_tags_tag_uid_book_uid", ["tag_uid", "book_uid"])
    op.drop_index("ix_users_created_at_uid", table_name="users")
    for sort in SORTS:
        for column in BOOK_FILTERS:
            op.drop_index(f"ix_books_{column}_{sort}_uid", table_name="books")
    op.create_index("ix_books_owner_uid_created_at", "books", ["owner_uid", "created_at", "uid"])
    op.create_index("ix_books_author_key", "books", ["author_key"])
    op.create_index("ix_books_language_created_at", "books", ["language", "created_at"])
    _revision("0005_rating_desc_index").upgrade()
