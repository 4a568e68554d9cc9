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
