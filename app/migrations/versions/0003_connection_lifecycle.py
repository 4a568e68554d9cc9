"""Invitations, connection actions, score history and the outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:57:20.667212

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():

    op.create_table(
        "guest_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("host_organization_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=False),
        sa.Column("owner_email", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "sent",
                "accepted_by_guest",
                "accepted_by_system",
                name="invitation_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_invitation_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_invitation_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("guest_organization_id", sa.Uuid(), nullable=True),
        sa.Column("parent_organization_id", sa.Uuid(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'sent' AND accepted_at IS NULL) OR (status <> 'sent' AND accepted_at IS NOT NULL)",
            name=op.f("ck_guest_invitations_accepted_at_matches"),
        ),
        sa.CheckConstraint(
            "(archived AND archived_at IS NOT NULL) OR (NOT archived AND archived_at IS NULL)",
            name=op.f("ck_guest_invitations_archived_at_matches"),
        ),
        sa.CheckConstraint(
            "length(email) BETWEEN 3 AND 100", name=op.f("ck_guest_invitations_email_length")
        ),
        sa.CheckConstraint(
            "length(owner_email) BETWEEN 1 AND 100",
            name=op.f("ck_guest_invitations_owner_email_length"),
        ),
        sa.ForeignKeyConstraint(
            ["guest_organization_id"],
            ["organizations.id"],
            name=op.f("fk_guest_invitations_guest_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["host_organization_id"],
            ["organizations.id"],
            name=op.f("fk_guest_invitations_host_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_organization_id"],
            ["organizations.id"],
            name=op.f("fk_guest_invitations_parent_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_guest_invitations_token_hash")),
    )
    with op.batch_alter_table("guest_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_guest_invitations_host_created",
            ["host_organization_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_guest_invitations_host_email", ["host_organization_id", "email"], unique=False
        )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("recipient_email", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("host_organization_id", sa.Uuid(), nullable=True),
        sa.Column("guest_organization_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["guest_organization_id"],
            ["organizations.id"],
            name=op.f("fk_outbox_messages_guest_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_organization_id"],
            ["organizations.id"],
            name=op.f("fk_outbox_messages_host_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_host_organization_id"),
            ["host_organization_id"],
            unique=False,
        )
        batch_op.create_index("ix_outbox_messages_unsent", ["sent_at", "created_at"], unique=False)

    op.create_table(
        "connection_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("host_organization_id", sa.Uuid(), nullable=False),
        sa.Column("guest_organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "action_type",
            sa.Enum(
                "analytics_request",
                name="action_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "resolved",
                name="action_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_organization_id", "guest_organization_id"],
            ["guest_connections.host_organization_id", "guest_connections.guest_organization_id"],
            name=op.f("fk_connection_actions_host_organization_id_guest_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_actions")),
    )
    with op.batch_alter_table("connection_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_connection_actions_guest_status", ["guest_organization_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_connection_actions_one_active",
            ["host_organization_id", "guest_organization_id", "action_type"],
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "score_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("host_organization_id", sa.Uuid(), nullable=False),
        sa.Column("guest_organization_id", sa.Uuid(), nullable=False),
        sa.Column("total_score", sa.Float(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "analytics",
                "cli",
                name="score_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_score >= 0", name=op.f("ck_score_changes_score_not_negative")),
        sa.ForeignKeyConstraint(
            ["host_organization_id", "guest_organization_id"],
            ["guest_connections.host_organization_id", "guest_connections.guest_organization_id"],
            name=op.f("fk_score_changes_host_organization_id_guest_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_changes")),
    )
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_score_changes_connection_changed",
            ["host_organization_id", "guest_organization_id", "changed_at"],
            unique=False,
        )


def downgrade():

    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_score_changes_connection_changed")

    op.drop_table("score_changes")
    with op.batch_alter_table("connection_actions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_connection_actions_one_active",
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index("ix_connection_actions_guest_status")

    op.drop_table("connection_actions")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_unsent")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_host_organization_id"))

    op.drop_table("outbox_messages")
    with op.batch_alter_table("guest_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_guest_invitations_host_email")
        batch_op.drop_index("ix_guest_invitations_host_created")

    op.drop_table("guest_invitations")
