"""Guest connections and their lifecycle: invitations, actions, score history, outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.organizations import Organization
from app.models.types import (
    ActionStatus,
    ActionType,
    ConnectionStatus,
    InvitationStatus,
    OutboxStatus,
    ScoreSource,
    UTCDateTime,
    enum_column,
    utcnow,
)


class GuestConnection(db.Model):
    __tablename__ = "guest_connections"
    __table_args__ = (
        UniqueConstraint("host_organization_id", "guest_organization_id"),
        CheckConstraint("host_organization_id <> guest_organization_id", name="not_self"),
        CheckConstraint("length(owner_email) BETWEEN 1 AND 100", name="owner_email_length"),
        # A total score is a number from 0 to 100, on every face and here.
        CheckConstraint(
            "total_score IS NULL OR (total_score >= 0 AND total_score <= 100)", name="score_range"
        ),
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
        # The guest's list of its hosts, changed since a moment (updated_since, cursor).
        Index(
            "ix_guest_connections_guest_updated",
            "guest_organization_id",
            "updated_at",
            "host_organization_id",
        ),
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
        enum_column(ConnectionStatus, "connection_status"), default=ConnectionStatus.CONNECTED
    )
    # Null when the host had no e-mail and named no owner when inviting.
    owner_email: Mapped[str | None] = mapped_column(String(100))
    archived: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_score: Mapped[float | None] = mapped_column(Float)
    score_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_action_type: Mapped[ActionType | None] = mapped_column(
        enum_column(ActionType, "action_type")
    )
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
        Index("ix_guest_invitations_host_updated", "host_organization_id", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    host_organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(100))
    # Becomes the connection's owner_email: the host-side person responsible for this guest;
    # null when the host has no e-mail and named nobody.
    owner_email: Mapped[str | None] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus, "invitation_status"), default=InvitationStatus.SENT
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
    action_type: Mapped[ActionType] = mapped_column(enum_column(ActionType, "action_type"))
    status: Mapped[ActionStatus] = mapped_column(
        enum_column(ActionStatus, "action_status"), default=ActionStatus.ACTIVE
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
        CheckConstraint("total_score >= 0 AND total_score <= 100", name="score_range"),
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
    source: Mapped[ScoreSource] = mapped_column(enum_column(ScoreSource, "score_source"))
    # The run that computed it (null for scores recorded otherwise), and the model's name.
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("analytics_runs.id", ondelete="SET NULL"), index=True
    )
    model: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(db.Model):
    """A message to send (an e-mail): written in the same transaction as the change it reports.

    The worker tries it when next_attempt_at comes, each time counting an attempt; after the
    last one it is set aside as failed (see app/services/outbox.py).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_unsent", "sent_at", "created_at"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

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
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What must not rest in clear (an invitation link, whose token is a credential), encrypted
    # with a key derived from SECRET_KEY; it takes the place of {sealed} in the body when the
    # message is sent, and is erased once it is.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
