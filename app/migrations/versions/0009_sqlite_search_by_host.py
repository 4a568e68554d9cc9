"""SQLite: per connection, one search row holding its host, guest, guest name and e-mail.

Migration 0008 made substring search indexable on SQLite, one table per searched table. A host's
guest list searched by the guest's name then found the matching organizations (of every host)
in organization_search, read each one's id, and probed the host's (host, guest) index with it,
to count the matches and again to page them: about 9 ms of a 12 ms count at 100 000 guests.

guest_connection_search_rows holds, per guest connection, the host, the guest and the texts the
host's list searches (the guest's name and e-mail, the connection's owner e-mail), in an
ordinary table (INTEGER PRIMARY KEY search_id, unique on the connection id, indexed by guest).
guest_connection_search is an FTS5 trigram table over it (external content, its rowid the row's
search_id): a list reads the matching rowids from the index and the rows by their integer key
(FTS5's own column reads cost ~2 us a row, 5 of the 9 ms of the list's statement), so the
matches of one host, and their count, never visit other hosts' rows. It replaces 0008's
guest_connection_search (owner e-mail only): same name, same id and owner_email columns, so the
host-side list's owner search reads it as before.

Triggers: on connections (insert, update of host/guest/owner, delete) and on organizations
(name or e-mail) they keep the rows; on the rows they keep the FTS5 index (insert, and
'delete' with the old values, as external-content tables require). Every trigger finds its
rows through an index. As with 0008, a later migration that rebuilds guest_connections or
organizations on SQLite (batch mode) drops the triggers on them with the old table and must
create them again; the search tests in tests/services/test_lists.py fail on SQLite if it does
not.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 19:10:00

"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEARCH = "guest_connection_search"
ROWS = "guest_connection_search_rows"
COLUMNS = "id, host_organization_id, guest_organization_id, guest_name, guest_email, owner_email"


def _values(row: str) -> str:
    return ", ".join(f"{row}.{column}" for column in COLUMNS.split(", "))


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    # 0008's table and triggers (owner e-mail only) make way for the search rows.
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {SEARCH}_{event}")
    op.execute(f"DROP TABLE IF EXISTS {SEARCH}")
    op.execute(
        f"CREATE TABLE {ROWS} ("
        " search_id INTEGER PRIMARY KEY,"
        " id CHAR(32) NOT NULL UNIQUE,"
        " host_organization_id CHAR(32) NOT NULL,"
        " guest_organization_id CHAR(32) NOT NULL,"
        " guest_name VARCHAR(300) NOT NULL,"
        " guest_email VARCHAR(100),"
        " owner_email VARCHAR(100))"
    )
    op.execute(f"CREATE INDEX ix_{ROWS}_guest ON {ROWS} (guest_organization_id)")
    op.execute(
        f"CREATE VIRTUAL TABLE {SEARCH} USING fts5("
        "id UNINDEXED, host_organization_id UNINDEXED, guest_organization_id UNINDEXED, "
        "guest_name, guest_email, owner_email, "
        f"content = '{ROWS}', content_rowid = 'search_id', "
        "tokenize = 'trigram case_sensitive 0')"
    )
    # The FTS5 index follows the rows.
    op.execute(
        f"CREATE TRIGGER {ROWS}_insert AFTER INSERT ON {ROWS} BEGIN "
        f"INSERT INTO {SEARCH} (rowid, {COLUMNS}) VALUES (new.search_id, {_values('new')}); END"
    )
    op.execute(
        f"CREATE TRIGGER {ROWS}_delete AFTER DELETE ON {ROWS} BEGIN "
        f"INSERT INTO {SEARCH} ({SEARCH}, rowid, {COLUMNS}) "
        f"VALUES ('delete', old.search_id, {_values('old')}); END"
    )
    op.execute(
        f"CREATE TRIGGER {ROWS}_update AFTER UPDATE ON {ROWS} BEGIN "
        f"INSERT INTO {SEARCH} ({SEARCH}, rowid, {COLUMNS}) "
        f"VALUES ('delete', old.search_id, {_values('old')}); "
        f"INSERT INTO {SEARCH} (rowid, {COLUMNS}) VALUES (new.search_id, {_values('new')}); END"
    )
    op.execute(
        f"INSERT INTO {ROWS} ({COLUMNS}) SELECT c.id, c.host_organization_id, "
        "c.guest_organization_id, guest.name, guest.email, c.owner_email "
        "FROM guest_connections AS c JOIN organizations AS guest "
        "ON guest.id = c.guest_organization_id"
    )
    # The rows follow the connections and their guests.
    op.execute(
        f"CREATE TRIGGER {SEARCH}_insert AFTER INSERT ON guest_connections BEGIN "
        f"INSERT INTO {ROWS} ({COLUMNS}) SELECT new.id, new.host_organization_id, "
        "new.guest_organization_id, guest.name, guest.email, new.owner_email "
        "FROM organizations AS guest WHERE guest.id = new.guest_organization_id; END"
    )
    op.execute(
        f"CREATE TRIGGER {SEARCH}_update AFTER UPDATE OF "
        "host_organization_id, guest_organization_id, owner_email ON guest_connections BEGIN "
        f"UPDATE {ROWS} SET host_organization_id = new.host_organization_id, "
        "guest_organization_id = new.guest_organization_id, owner_email = new.owner_email, "
        "guest_name = (SELECT name FROM organizations WHERE id = new.guest_organization_id), "
        "guest_email = (SELECT email FROM organizations WHERE id = new.guest_organization_id) "
        "WHERE id = old.id; END"
    )
    op.execute(
        f"CREATE TRIGGER {SEARCH}_delete AFTER DELETE ON guest_connections BEGIN "
        f"DELETE FROM {ROWS} WHERE id = old.id; END"
    )
    op.execute(
        f"CREATE TRIGGER {SEARCH}_guest AFTER UPDATE OF name, email ON organizations BEGIN "
        f"UPDATE {ROWS} SET guest_name = new.name, guest_email = new.email "
        "WHERE guest_organization_id = new.id; END"
    )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for event in ("insert", "update", "delete", "guest"):
        op.execute(f"DROP TRIGGER IF EXISTS {SEARCH}_{event}")
    op.execute(f"DROP TABLE IF EXISTS {SEARCH}")
    op.execute(f"DROP TABLE IF EXISTS {ROWS}")  # its triggers go with it
    # 0008's table, as 0008 made it.
    op.execute(
        f"CREATE VIRTUAL TABLE {SEARCH} USING fts5("
        "id UNINDEXED, owner_email, tokenize = 'trigram case_sensitive 0')"
    )
    op.execute(
        f"INSERT INTO {SEARCH} (id, owner_email) SELECT id, owner_email FROM guest_connections"
    )
    op.execute(
        f"CREATE TRIGGER {SEARCH}_insert AFTER INSERT ON guest_connections BEGIN "
        f"INSERT INTO {SEARCH} (id, owner_email) VALUES (new.id, new.owner_email); END"
    )
    op.execute(
        f"CREATE TRIGGER {SEARCH}_update AFTER UPDATE OF owner_email ON guest_connections BEGIN "
        f"DELETE FROM {SEARCH} WHERE id = old.id; "
        f"INSERT INTO {SEARCH} (id, owner_email) VALUES (new.id, new.owner_email); END"
    )
    op.execute(
        f"CREATE TRIGGER {SEARCH}_delete AFTER DELETE ON guest_connections BEGIN "
        f"DELETE FROM {SEARCH} WHERE id = old.id; END"
    )
