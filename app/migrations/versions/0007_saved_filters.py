"""Saved filters: a person's named filter combinations of an organization's guest list.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:23:29.073805

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # A new table only: plain CREATE TABLE works on SQLite and PostgreSQL alike.
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 60", name=op.f("ck_saved_filters_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_saved_filters_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_filters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
        # Also the index of a person's filters in an organization (its leading columns).
        sa.UniqueConstraint(
            "user_id",
            "organization_id",
            "name",
            name=op.f("uq_saved_filters_user_id_organization_id_name"),
        ),
    )
    # Deleting an organization cascades here: its foreign key needs an index of its own.
    op.create_index(op.f("ix_saved_filters_organization_id"), "saved_filters", ["organization_id"])


def downgrade():
    op.drop_index(op.f("ix_saved_filters_organization_id"), table_name="saved_filters")
    op.drop_table("saved_filters")
