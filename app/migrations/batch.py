"""What migrations share: rebuilding a SQLite table in batch mode without losing its children."""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# Rows that refer to a guest connection, ON DELETE CASCADE.
CONNECTION_CHILDREN = ("connection_actions", "score_changes")


@contextmanager
def children_kept(table: str, children: tuple[str, ...]):
    """Keep the rows of child tables while batch mode rebuilds their parent table.

    On SQLite, batch mode copies the table and drops the old one; with foreign keys on (the
    app turns them on for every connection), that drop deletes the children through their
    ON DELETE CASCADE. PostgreSQL alters in place, so nothing is needed there.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    kept = {}
    for child in children:
        reflected = sa.Table(child, sa.MetaData(), autoload_with=bind)
        kept[reflected] = [dict(row) for row in bind.execute(sa.select(reflected)).mappings()]
    yield
    for reflected, rows in kept.items():
        bind.execute(reflected.delete())  # none should be left; never twice
        if rows:
            bind.execute(reflected.insert(), rows)


def drop_columns_in_place(table: str, *columns: str) -> None:
    """Drop columns without rebuilding the table (SQLite 3.35+ can; batch mode would rebuild it).

    A rebuilt parent table is dropped and copied: on SQLite that deletes every row that refers
    to it through ON DELETE CASCADE, which for organizations or users is nearly everything.
    """
    for column in columns:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        else:
            op.drop_column(table, column)
