"""SQLite: trigram full-text tables that make substring search indexable (PostgreSQL: nothing).

On PostgreSQL, pg_trgm indexes serve `lower(column) LIKE '%text%'` (migration 0002). SQLite has
no such index: each search called Python's lower() on every row, about 4 s for one host with
100 000 guests. FTS5's trigram tokenizer keeps the same semantics — a case-insensitive
substring (Unicode case folding), `%`, `_` and `\\` literal — for texts of 3 characters or more,
and finds the matches through its index. Each table holds the searched columns and the row's
id, kept in step by triggers, so every write path (services, bulk seeding) stays in sync.

A later migration that rebuilds organizations or guest_connections on SQLite (batch mode copies
the table) drops these triggers with the old table: it must create them again (the search tests
in tests/services/test_lists.py fail on SQLite if it does not).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:35:00

"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# search table: (source table, searched columns)
SEARCH_TABLES = {
    "organization_search": ("organizations", ("name", "email")),
    "guest_connection_search": ("guest_connections", ("owner_email",)),
}


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for search, (source, columns) in SEARCH_TABLES.items():
        listed = ", ".join(columns)
        new_values = ", ".join(f"new.{column}" for column in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {search} USING fts5("
            f"id UNINDEXED, {listed}, tokenize = 'trigram case_sensitive 0')"
        )
        op.execute(f"INSERT INTO {search} (id, {listed}) SELECT id, {listed} FROM {source}")
        op.execute(
            f"CREATE TRIGGER {search}_insert AFTER INSERT ON {source} BEGIN "
            f"INSERT INTO {search} (id, {listed}) VALUES (new.id, {new_values}); END"
        )
        op.execute(
            f"CREATE TRIGGER {search}_update AFTER UPDATE OF {listed} ON {source} BEGIN "
            f"DELETE FROM {search} WHERE id = old.id; "
            f"INSERT INTO {search} (id, {listed}) VALUES (new.id, {new_values}); END"
        )
        op.execute(
            f"CREATE TRIGGER {search}_delete AFTER DELETE ON {source} BEGIN "
            f"DELETE FROM {search} WHERE id = old.id; END"
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for search in SEARCH_TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {search}_{event}")
        op.execute(f"DROP TABLE IF EXISTS {search}")
