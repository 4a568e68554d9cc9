"""Trust in what the host sees: scores bounded 0-100, proven organization e-mails, browser
sessions on the server, a session epoch per user, organizations' opt-in to sign-in by claim.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:10:00

"""

import sqlalchemy as sa
from alembic import op

from app.migrations.batch import CONNECTION_CHILDREN, children_kept, drop_columns_in_place

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# On SQLite, batch mode rebuilds each table; its other (named) CHECK constraints are reflected
# and kept.
SCORE_TABLES = {
    "guest_connections": "total_score IS NULL OR (total_score >= 0 AND total_score <= 100)",
    "score_changes": "total_score >= 0 AND total_score <= 100",
}
OLD_SCORE_CHECKS = {
    "guest_connections": "total_score IS NULL OR total_score >= 0",
    "score_changes": "total_score >= 0",
}


def upgrade():
    op.create_table(
        "sso_links",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("claim_value", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(claim_value) BETWEEN 1 AND 255", name=op.f("ck_sso_links_claim_value_length")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sso_links_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_sso_links")),
        sa.UniqueConstraint("issuer", "claim_value", name=op.f("uq_sso_links_issuer_claim_value")),
    )
    op.create_table(
        "browser_sessions",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_browser_sessions")),
    )
    op.create_index("ix_browser_sessions_expires_at", "browser_sessions", ["expires_at"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
    # A literal default ("0", false on both databases), never an SQL expression: with one, batch
    # mode rebuilds organizations on SQLite, and dropping the old table deletes every row that
    # refers to an organization (ON DELETE CASCADE): connections, memberships, scores.
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_proven", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("email_confirmation_hash", sa.String(length=128)))
    # An operator's `flask orgs create --email` vouched for the e-mail; a typed one did not.
    op.execute(
        "UPDATE organizations SET email_proven = TRUE WHERE email IS NOT NULL AND id IN "
        "(SELECT organization_id FROM audit_events "
        "WHERE action = 'organization.created' AND actor_kind = 'cli')"
    )
    # Scores above 100 were never shown as such by the pages; none should exist. Any that do
    # are clamped, so the constraint can be added on every database.
    op.execute("UPDATE guest_connections SET total_score = 100 WHERE total_score > 100")
    op.execute("UPDATE score_changes SET total_score = 100 WHERE total_score > 100")
    for table, condition in SCORE_TABLES.items():
        children = CONNECTION_CHILDREN if table == "guest_connections" else ()
        with children_kept(table, children), op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_score_not_negative"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_score_range"), condition)


def downgrade():
    op.drop_table("sso_links")
    drop_columns_in_place("users", "session_epoch")
    op.drop_index("ix_browser_sessions_expires_at", table_name="browser_sessions")
    op.drop_table("browser_sessions")
    drop_columns_in_place("organizations", "email_confirmation_hash", "email_proven")
    for table, condition in OLD_SCORE_CHECKS.items():
        children = CONNECTION_CHILDREN if table == "guest_connections" else ()
        with children_kept(table, children), op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_score_range"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_score_not_negative"), condition)
