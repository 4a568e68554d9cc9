"""The audit trail, and indexes for the guest-connection list's sorts and substring search.

The trigram indexes (pg_trgm, GIN on lower(...)) serve `lower(column) LIKE '%text%'`, and the
DESC NULLS LAST indexes the descending orders; both exist on PostgreSQL only. SQLite gets the
rest and scans for substrings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 22:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The list sorts by one column, then by the guest id in the same direction (the tie-breaker);
# each index below is exactly one such order, so that a page is read without sorting.
# Name -> sort column; 0001 had the first three without the guest id.
REPLACED_SORT_INDEXES = {
    "ix_guest_connections_host_created": "created_at",
    "ix_guest_connections_host_updated": "updated_at",
    "ix_guest_connections_host_score": "total_score",
}
NEW_SORT_INDEXES = {
    "ix_guest_connections_host_owner": "owner_email",
    "ix_guest_connections_host_score_updated": "score_updated_at",
    "ix_guest_connections_host_archived": "archived_at",
    "ix_guest_connections_host_action_updated": "active_action_updated_at",
}
# PostgreSQL reads an ascending index backwards as DESC NULLS FIRST; the list wants empty values
# last in both directions, so the descending orders of the nullable columns get their own.
DESCENDING_INDEXES = {
    "ix_guest_connections_host_score_desc": "total_score",
    "ix_guest_connections_host_score_updated_desc": "score_updated_at",
    "ix_guest_connections_host_archived_desc": "archived_at",
    "ix_guest_connections_host_action_updated_desc": "active_action_updated_at",
}
# For substring search: lower(column) LIKE '%text%' (pg_trgm, GIN).
TRIGRAM_INDEXES = {
    "ix_organizations_name_trgm": ("organizations", "name"),
    "ix_organizations_email_trgm": ("organizations", "email"),
    "ix_guest_connections_owner_email_trgm": ("guest_connections", "owner_email"),
}


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "user",
                "api_client",
                "cli",
                name="actor_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(action) BETWEEN 1 AND 64", name=op.f("ck_audit_events_action_length")
        ),
        sa.CheckConstraint(
            "length(actor_label) BETWEEN 1 AND 300",
            name=op.f("ck_audit_events_actor_label_length"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_audit_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_org_created", ["organization_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_audit_events_subject", ["subject_type", "subject_id", "created_at"], unique=False
        )

    with op.batch_alter_table("guest_connections", schema=None) as batch_op:
        for name in REPLACED_SORT_INDEXES:
            batch_op.drop_index(name)
        for name, column in {**REPLACED_SORT_INDEXES, **NEW_SORT_INDEXES}.items():
            batch_op.create_index(
                name, ["host_organization_id", column, "guest_organization_id"], unique=False
            )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index("ix_organizations_name", ["name", "id"], unique=False)
        batch_op.create_index("ix_organizations_email", ["email", "id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for name, column in DESCENDING_INDEXES.items():
            op.execute(
                f"CREATE INDEX {name} ON guest_connections "
                f"(host_organization_id, {column} DESC NULLS LAST, guest_organization_id DESC)"
            )
        op.execute(
            "CREATE INDEX ix_organizations_email_desc ON organizations (email DESC NULLS LAST, id DESC)"
        )
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, (table, column) in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (lower({column}) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # The pg_trgm extension stays: other objects may use it.
        for name in [*TRIGRAM_INDEXES, "ix_organizations_email_desc", *DESCENDING_INDEXES]:
            op.execute(f"DROP INDEX {name}")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index("ix_organizations_email")
        batch_op.drop_index("ix_organizations_name")

    with op.batch_alter_table("guest_connections", schema=None) as batch_op:
        for name in {**REPLACED_SORT_INDEXES, **NEW_SORT_INDEXES}:
            batch_op.drop_index(name)
        for name, column in REPLACED_SORT_INDEXES.items():
            batch_op.create_index(name, ["host_organization_id", column], unique=False)

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_subject")
        batch_op.drop_index("ix_audit_events_org_created")

    op.drop_table("audit_events")
