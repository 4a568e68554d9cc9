"""Financial statements and analytics runs; score history names its run and model; an
invitation and a connection may have no owner e-mail.

Today's score history entries (typed by guests or recorded at the command line) are kept and
marked with the model "manual (before runs)"; a connection whose score has no entry yet gets one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:00:00

"""

import uuid

import sqlalchemy as sa
from alembic import op

from app.migrations.batch import CONNECTION_CHILDREN, children_kept

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BEFORE_RUNS = "manual (before runs)"


def money() -> sa.types.TypeEngine:
    # NUMERIC(18, 2); text on SQLite, which has no exact decimal type (see app.models.types.Money).
    return sa.Numeric(18, 2).with_variant(sa.String(24), "sqlite")


def upgrade():
    op.create_table(
        "financial_statements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_assets", money(), nullable=False),
        sa.Column("total_liabilities", money(), nullable=False),
        sa.Column("current_assets", money(), nullable=False),
        sa.Column("current_liabilities", money(), nullable=False),
        sa.Column("retained_earnings", money(), nullable=False),
        sa.Column("ebit", money(), nullable=False),
        sa.Column("equity", money(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(currency) = 3", name=op.f("ck_financial_statements_currency_length")
        ),
        sa.CheckConstraint(
            "total_assets > 0", name=op.f("ck_financial_statements_total_assets_positive")
        ),
        sa.CheckConstraint(
            "total_liabilities > 0",
            name=op.f("ck_financial_statements_total_liabilities_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_financial_statements_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_financial_statements")),
    )
    op.create_index(
        "ix_financial_statements_org_period",
        "financial_statements",
        ["organization_id", "period_end", "created_at", "id"],
    )

    op.create_table(
        "analytics_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in_progress",
                "processing",
                "success",
                "failed",
                name="analytics_run_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("statement_id", sa.Uuid(), nullable=True),
        sa.Column("statement_period_end", sa.Date(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("model_value", sa.Float(), nullable=True),
        sa.Column("zone", sa.String(length=32), nullable=True),
        sa.Column("total_score", sa.Float(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processing_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("analyzed_on", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "total_score IS NULL OR (total_score >= 0 AND total_score <= 100)",
            name=op.f("ck_analytics_runs_score_in_range"),
        ),
        sa.CheckConstraint(
            "(status = 'success' AND total_score IS NOT NULL AND analyzed_on IS NOT NULL)"
            " OR (status <> 'success' AND total_score IS NULL)",
            name=op.f("ck_analytics_runs_score_matches_status"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_runs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["financial_statements.id"],
            name=op.f("fk_analytics_runs_statement_id_financial_statements"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_runs")),
    )
    op.create_index(
        "ix_analytics_runs_org_created", "analytics_runs", ["organization_id", "created_at", "id"]
    )

    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("model", sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_score_changes_run_id_analytics_runs"),
            "analytics_runs",
            ["run_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_score_changes_run_id"), ["run_id"], unique=False)

    # Today's scores: every entry so far was typed, by a guest or an operator.
    score_changes = sa.table(
        "score_changes",
        sa.column("id", sa.Uuid()),
        sa.column("host_organization_id", sa.Uuid()),
        sa.column("guest_organization_id", sa.Uuid()),
        sa.column("total_score", sa.Float()),
        sa.column("source", sa.String()),
        sa.column("model", sa.String()),
        sa.column("changed_at", sa.DateTime(timezone=True)),
    )
    connections = sa.table(
        "guest_connections",
        sa.column("host_organization_id", sa.Uuid()),
        sa.column("guest_organization_id", sa.Uuid()),
        sa.column("total_score", sa.Float()),
        sa.column("score_updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    bind.execute(sa.update(score_changes).values(model=BEFORE_RUNS))
    has_entry = (
        sa.select(score_changes.c.id)
        .where(
            score_changes.c.host_organization_id == connections.c.host_organization_id,
            score_changes.c.guest_organization_id == connections.c.guest_organization_id,
        )
        .exists()
    )
    unrecorded = bind.execute(
        sa.select(
            connections.c.host_organization_id,
            connections.c.guest_organization_id,
            connections.c.total_score,
            sa.func.coalesce(connections.c.score_updated_at, connections.c.updated_at),
        ).where(connections.c.total_score.is_not(None), ~has_entry)
    ).all()
    if unrecorded:
        bind.execute(
            sa.insert(score_changes),
            [
                {
                    "id": uuid.uuid4(),
                    "host_organization_id": host_id,
                    "guest_organization_id": guest_id,
                    # The history refuses negatives; no connection holds one (its own check).
                    "total_score": score,
                    "source": "cli",
                    "model": BEFORE_RUNS,
                    "changed_at": changed_at,
                }
                for host_id, guest_id, score, changed_at in unrecorded
            ],
        )
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.alter_column("model", existing_type=sa.String(length=100), nullable=False)

    # A host with no e-mail may invite (the original's body has no owner e-mail).
    for table in ("guest_invitations", "guest_connections"):
        children = CONNECTION_CHILDREN if table == "guest_connections" else ()
        with children_kept(table, children), op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("owner_email", existing_type=sa.String(length=100), nullable=True)
    if bind.dialect.name == "postgresql":
        # An empty owner now sorts last both ways, like the other columns that may be empty.
        op.execute(
            "CREATE INDEX ix_guest_connections_host_owner_desc ON guest_connections "
            "(host_organization_id, owner_email DESC NULLS LAST, guest_organization_id DESC)"
        )


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_guest_connections_host_owner_desc")
    # An owner e-mail is needed again: a missing one becomes the host organization's e-mail,
    # or a placeholder when it has none.
    for table in ("guest_invitations", "guest_connections"):
        op.execute(
            f"UPDATE {table} SET owner_email = COALESCE("  # noqa: S608 - fixed table names
            "(SELECT email FROM organizations WHERE organizations.id = "
            f"{table}.host_organization_id), 'unknown@invalid') WHERE owner_email IS NULL"
        )
        children = CONNECTION_CHILDREN if table == "guest_connections" else ()
        with children_kept(table, children), op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "owner_email", existing_type=sa.String(length=100), nullable=False
            )
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_changes_run_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_score_changes_run_id_analytics_runs"), type_="foreignkey"
        )
        batch_op.drop_column("model")
        batch_op.drop_column("run_id")
    op.drop_index("ix_analytics_runs_org_created", table_name="analytics_runs")
    op.drop_table("analytics_runs")
    op.drop_index("ix_financial_statements_org_period", table_name="financial_statements")
    op.drop_table("financial_statements")
