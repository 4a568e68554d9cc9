"""Column types and enumerations shared by the tables."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Enum,
    TypeDecorator,
)


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


def enum_column(python_enum: type[enum.Enum], name: str) -> Enum:
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


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"
    FAILED = "failed"  # set aside after the last attempt; `flask outbox retry` revives it


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
