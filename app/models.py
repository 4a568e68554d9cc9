"""The tables. Invariants of the contract live here as database constraints too."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    SQLite has no time zone type and hands back naive values; this makes them aware again,
    and refuses naive values on the way in so no local time is ever stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(python_enum: type[enum.Enum], name: str) -> Enum:
    # Stored as text with a CHECK constraint: portable, and adding a value is a plain migration.
    return Enum(
        python_enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class ConnectionStatus(enum.StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class ActionType(enum.StrEnum):
    ANALYTICS_REQUEST = "analytics_request"


class ActionStatus(enum.StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


class InvitationStatus(enum.StrEnum):
    SENT = "sent"
    ACCEPTED_BY_GUEST = "accepted_by_guest"  # the guest used the invitation's token
    # The connection came about without this invitation's token; see app/invitations.py.
    ACCEPTED_BY_SYSTEM = "accepted_by_system"


class ScoreSource(enum.StrEnum):
    ANALYTICS = "analytics"  # the guest submitted an analytics result
    CLI = "cli"  # an operator recorded it with `flask connections add --score`


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class ActorKind(enum.StrEnum):
    USER = "user"
    API_CLIENT = "api_client"
    CLI = "cli"


class Organization(db.Model):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("length(name) BETWEEN 1 AND 300", name="name_length"),
        CheckConstraint("email IS NULL OR length(email) BETWEEN 3 AND 100", name="email_length"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        # For sorting a host's guests by name or e-mail (then id) when it has many of them.
        Index("ix_organizations_name", "name", "id"),
        Index("ix_organizations_email", "email", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(100))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Organization | None] = relationship(remote_side=[id])


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("oidc_issuer", "oidc_subject"),
        CheckConstraint("length(email) BETWEEN 3 AND 254", name="email_length"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Stored lower-case, so that the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Membership(db.Model):
    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "membership_role"), default=Role.MEMBER)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship()


class ApiClient(db.Model):
    __tablename__ = "api_clients"
    __table_args__ = (CheckConstraint("length(name) BETWEEN 1 AND 100", name="name_length"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(128), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the client last obtained a token (updated at issuance, not on every API call).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship()


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GuestConnection(db.Model):
    __tablename__ = "guest_connections"
    __table_args__ = (
        UniqueConstraint("host_organization_id", "guest_organization_id"),
        CheckConstraint("host_organization_id <> guest_organization_id", name="not_self"),
        CheckConstraint("length(owner_email) BETWEEN 1 AND 100", name="owner_email_length"),
        CheckConstraint("total_score IS NULL OR total_score >= 0", name="score_not_negative"),
        CheckConstraint(
            "(archived AND archived_at IS NOT NULL) OR (NOT archived AND archived_at IS NULL)",
            name="archived_at_matches",
        ),
        # The list filters by host and sorts by one of these, then by guest id (the tie-breaker):
        # each index is exactly one such order, so a page is read without sorting.
        Index(
            "ix_guest_connections_host_created",
            "host_organization_id",
            "created_at",
            "guest_organization_id",
        ),
        Index(
            "ix_guest_connections_host_updated",
            "host_organization_id",
            "updated_at",
            "guest_organization_id",
        ),
        Index(
            "ix_guest_connections_host_score",
            "host_organization_id",
            "total_score",
            "guest_organization_id",
        ),
        Index(
            "ix_guest_connections_host_owner",
            "host_organization_id",
            "owner_email",
            "guest_organization_id",
        ),
        Index(
            "ix_guest_connections_host_score_updated",
            "host_organization_id",
            "score_updated_at",
            "guest_organization_id",
        ),
        Index(
            "ix_guest_connections_host_archived",
            "host_organization_id",
            "archived_at",
            "guest_organization_id",
        ),
        Index(
            "ix_guest_connections_host_action_updated",
            "host_organization_id",
            "active_action_updated_at",
            "guest_organization_id",
        ),
        Index("ix_guest_connections_host_parent", "host_organization_id", "parent_organization_id"),
        # PostgreSQL also has, from migration 0002 only: trigram indexes on lower(owner_email)
        # (and on the guest's lower(name), lower(email)) for substring search, and DESC NULLS
        # LAST indexes for the descending orders of the columns that may be empty.
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    host_organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    guest_organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ConnectionStatus] = mapped_column(
        _enum(ConnectionStatus, "connection_status"), default=ConnectionStatus.CONNECTED
    )
    owner_email: Mapped[str] = mapped_column(String(100))
    archived: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_score: Mapped[float | None] = mapped_column(Float)
    score_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_action_type: Mapped[ActionType | None] = mapped_column(_enum(ActionType, "action_type"))
    active_action_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The parent the host recorded for this guest; the guest organization's own parent otherwise.
    parent_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    host: Mapped[Organization] = relationship(foreign_keys=[host_organization_id])
    guest: Mapped[Organization] = relationship(foreign_keys=[guest_organization_id])


class GuestInvitation(db.Model):
    """A host's invitation to an e-mail address; its token is stored only as a hash."""

    __tablename__ = "guest_invitations"
    __table_args__ = (
        CheckConstraint("length(email) BETWEEN 3 AND 100", name="email_length"),
        CheckConstraint("length(owner_email) BETWEEN 1 AND 100", name="owner_email_length"),
        CheckConstraint(
            "(archived AND archived_at IS NOT NULL) OR (NOT archived AND archived_at IS NULL)",
            name="archived_at_matches",
        ),
        CheckConstraint(
            "(status = 'sent' AND accepted_at IS NULL)"
            " OR (status <> 'sent' AND accepted_at IS NOT NULL)",
            name="accepted_at_matches",
        ),
        # The host's list filters by host and sorts by these.
        Index("ix_guest_invitations_host_created", "host_organization_id", "created_at"),
        Index("ix_guest_invitations_host_email", "host_organization_id", "email"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    host_organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(100))
    # Becomes the connection's owner_email: the host-side person responsible for this guest.
    owner_email: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[InvitationStatus] = mapped_column(
        _enum(InvitationStatus, "invitation_status"), default=InvitationStatus.SENT
    )
    expired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_invitation_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_invitation_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The organization that became the guest through this invitation.
    guest_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    parent_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    archived: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConnectionAction(db.Model):
    """Something the host asked of the guest (an analytics request), open until resolved."""

    __tablename__ = "connection_actions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["host_organization_id", "guest_organization_id"],
            ["guest_connections.host_organization_id", "guest_connections.guest_organization_id"],
            ondelete="CASCADE",
        ),
        # At most one open action of a kind per connection, even under concurrent requests.
        Index(
            "uq_connection_actions_one_active",
            "host_organization_id",
            "guest_organization_id",
            "action_type",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index("ix_connection_actions_guest_status", "guest_organization_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    host_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    guest_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action_type: Mapped[ActionType] = mapped_column(_enum(ActionType, "action_type"))
    status: Mapped[ActionStatus] = mapped_column(
        _enum(ActionStatus, "action_status"), default=ActionStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScoreChange(db.Model):
    """One value the total score of a connection took, kept for its history."""

    __tablename__ = "score_changes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["host_organization_id", "guest_organization_id"],
            ["guest_connections.host_organization_id", "guest_connections.guest_organization_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("total_score >= 0", name="score_not_negative"),
        Index(
            "ix_score_changes_connection_changed",
            "host_organization_id",
            "guest_organization_id",
            "changed_at",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    host_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    guest_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    total_score: Mapped[float] = mapped_column(Float)
    source: Mapped[ScoreSource] = mapped_column(_enum(ScoreSource, "score_source"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(db.Model):
    """A message to send (an e-mail): written in the same transaction as the change it reports."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_unsent", "sent_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(64))
    recipient_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    host_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    guest_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """One write: who did it, what it changed (field -> [before, after]), and when."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("length(actor_label) BETWEEN 1 AND 300", name="actor_label_length"),
        CheckConstraint("length(action) BETWEEN 1 AND 64", name="action_length"),
        Index("ix_audit_events_org_created", "organization_id", "created_at", "id"),
        Index("ix_audit_events_subject", "subject_type", "subject_id", "created_at"),
    )

    # A sequence rather than a UUID: it orders events written within the same microsecond.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "actor_kind"))
    actor_id: Mapped[str] = mapped_column(String(128))
    # Kept as written, so the trail still reads well after the user or client is gone.
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(128))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
