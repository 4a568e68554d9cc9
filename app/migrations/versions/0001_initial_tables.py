"""Initial tables: organizations, users, memberships, API clients, signing keys, guest connections.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 21:51:43.313361

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "email IS NULL OR length(email) BETWEEN 3 AND 100",
            name=op.f("ck_organizations_email_length"),
        ),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 300", name=op.f("ck_organizations_name_length")
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_organizations_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organizations.id"],
            name=op.f("fk_organizations_parent_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organizations_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("oidc_issuer", sa.String(length=500), nullable=True),
        sa.Column("oidc_subject", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(email) BETWEEN 3 AND 254", name=op.f("ck_users_email_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint(
            "oidc_issuer", "oidc_subject", name=op.f("uq_users_oidc_issuer_oidc_subject")
        ),
    )
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 100", name=op.f("ck_api_clients_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_clients_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
    )
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_clients_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "guest_connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("host_organization_id", sa.Uuid(), nullable=False),
        sa.Column("guest_organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "connected",
                "disconnected",
                name="connection_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_email", sa.String(length=100), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total_score", sa.Float(), nullable=True),
        sa.Column("score_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "active_action_type",
            sa.Enum(
                "analytics_request",
                name="action_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("active_action_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parent_organization_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(archived AND archived_at IS NOT NULL) OR (NOT archived AND archived_at IS NULL)",
            name=op.f("ck_guest_connections_archived_at_matches"),
        ),
        sa.CheckConstraint(
            "host_organization_id <> guest_organization_id",
            name=op.f("ck_guest_connections_not_self"),
        ),
        sa.CheckConstraint(
            "length(owner_email) BETWEEN 1 AND 100",
            name=op.f("ck_guest_connections_owner_email_length"),
        ),
        sa.CheckConstraint(
            "total_score IS NULL OR total_score >= 0",
            name=op.f("ck_guest_connections_score_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["guest_organization_id"],
            ["organizations.id"],
            name=op.f("fk_guest_connections_guest_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_organization_id"],
            ["organizations.id"],
            name=op.f("fk_guest_connections_host_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_organization_id"],
            ["organizations.id"],
            name=op.f("fk_guest_connections_parent_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_connections")),
        sa.UniqueConstraint(
            "host_organization_id",
            "guest_organization_id",
            name=op.f("uq_guest_connections_host_organization_id_guest_organization_id"),
        ),
    )
    with op.batch_alter_table("guest_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guest_connections_guest_organization_id"),
            ["guest_organization_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_guest_connections_host_created",
            ["host_organization_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_guest_connections_host_parent",
            ["host_organization_id", "parent_organization_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_guest_connections_host_score", ["host_organization_id", "total_score"], unique=False
        )
        batch_op.create_index(
            "ix_guest_connections_host_updated",
            ["host_organization_id", "updated_at"],
            unique=False,
        )

    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "admin",
                "member",
                name="membership_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_memberships_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "organization_id", name=op.f("pk_memberships")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_organization_id"), ["organization_id"], unique=False
        )


def downgrade():

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_organization_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("guest_connections", schema=None) as batch_op:
        batch_op.drop_index("ix_guest_connections_host_updated")
        batch_op.drop_index("ix_guest_connections_host_score")
        batch_op.drop_index("ix_guest_connections_host_parent")
        batch_op.drop_index("ix_guest_connections_host_created")
        batch_op.drop_index(batch_op.f("ix_guest_connections_guest_organization_id"))

    op.drop_table("guest_connections")
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_clients_organization_id"))

    op.drop_table("api_clients")
    op.drop_table("users")
    op.drop_table("signing_keys")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_parent_id"))

    op.drop_table("organizations")
