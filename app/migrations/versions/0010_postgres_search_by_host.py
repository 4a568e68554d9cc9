"""PostgreSQL: each guest connection's guest name and e-mail beside its host, trigram-indexed.

A host's guest list searched by the guest's name found the matching organizations (of every
host) through the trigram index on organizations, then probed the host's (host, guest) index
once per match to count them, and walked the page probing organizations once per row: at
100 000 guests and 2 500 matches, ~7 ms of counting and ~4 ms of paging.

guest_connection_search holds, per connection, its host, its guest and the guest's name and
e-mail, with trigram indexes on lower(name) and lower(e-mail) (the shape `lower(column) LIKE
'%text%'` of every list's search, migration 0002). One bitmap scan of it finds the host's
matches and nothing else; the list counts them and pages the host's sort index against the
same set (app/services/guest_connections.py). The owner e-mail is the connection's own column
and keeps its index on guest_connections.

It is search data, never shown: the names shown still come from organizations by join.
Triggers keep it in step: connections inserted (per statement, so a bulk insert costs one
INSERT ... SELECT), a connection's host or guest changed, a guest's name or e-mail changed;
a deleted connection takes its row with it (ON DELETE CASCADE). SQLite has its own table of
the same name (0009, FTS5).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 19:20:00

"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE guest_connection_search ("
        " id uuid PRIMARY KEY"
        " CONSTRAINT fk_guest_connection_search_id_guest_connections"
        " REFERENCES guest_connections (id) ON DELETE CASCADE,"
        " host_organization_id uuid NOT NULL,"
        " guest_organization_id uuid NOT NULL,"
        " guest_name varchar(300) NOT NULL,"
        " guest_email varchar(100))"
    )
    op.execute(
        "INSERT INTO guest_connection_search"
        " SELECT c.id, c.host_organization_id, c.guest_organization_id, g.name, g.email"
        " FROM guest_connections AS c JOIN organizations AS g ON g.id = c.guest_organization_id"
    )
    for column in ("guest_name", "guest_email"):
        op.execute(
            f"CREATE INDEX ix_guest_connection_search_{column}_trgm ON guest_connection_search"
            f" USING gin (lower({column}) gin_trgm_ops)"
        )
    # A guest's rename finds its rows by this.
    op.execute(
        "CREATE INDEX ix_guest_connection_search_guest"
        " ON guest_connection_search (guest_organization_id)"
    )
    op.execute(
        "CREATE FUNCTION guest_connection_search_inserted() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN"
        " INSERT INTO guest_connection_search"
        " SELECT c.id, c.host_organization_id, c.guest_organization_id, g.name, g.email"
        " FROM inserted AS c JOIN organizations AS g ON g.id = c.guest_organization_id;"
        " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER guest_connection_search_insert AFTER INSERT ON guest_connections"
        " REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT"
        " EXECUTE FUNCTION guest_connection_search_inserted()"
    )
    op.execute(
        "CREATE FUNCTION guest_connection_search_moved() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN"
        " UPDATE guest_connection_search AS s"
        " SET host_organization_id = NEW.host_organization_id,"
        " guest_organization_id = NEW.guest_organization_id, guest_name = g.name,"
        " guest_email = g.email"
        " FROM organizations AS g WHERE g.id = NEW.guest_organization_id AND s.id = NEW.id;"
        " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER guest_connection_search_update"
        " AFTER UPDATE OF host_organization_id, guest_organization_id ON guest_connections"
        " FOR EACH ROW EXECUTE FUNCTION guest_connection_search_moved()"
    )
    op.execute(
        "CREATE FUNCTION guest_connection_search_renamed() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN"
        " UPDATE guest_connection_search SET guest_name = NEW.name, guest_email = NEW.email"
        " WHERE guest_organization_id = NEW.id;"
        " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER guest_connection_search_guest"
        " AFTER UPDATE OF name, email ON organizations"
        " FOR EACH ROW EXECUTE FUNCTION guest_connection_search_renamed()"
    )
    op.execute("ANALYZE guest_connection_search")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS guest_connection_search_guest ON organizations")
    op.execute("DROP TRIGGER IF EXISTS guest_connection_search_update ON guest_connections")
    op.execute("DROP TRIGGER IF EXISTS guest_connection_search_insert ON guest_connections")
    op.execute("DROP TABLE IF EXISTS guest_connection_search")
    for function in ("renamed", "moved", "inserted"):
        op.execute(f"DROP FUNCTION IF EXISTS guest_connection_search_{function}()")
