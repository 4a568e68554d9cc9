"""The audit trail: who changed what, and when."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import (
    ActorKind,
    UTCDateTime,
    enum_column,
    utcnow,
)


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
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "actor_kind"))
    actor_id: Mapped[str] = mapped_column(String(128))
    # Kept as written, so the trail still reads well after the user or client is gone.
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(128))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
