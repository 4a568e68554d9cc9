"""Column types and enumerations shared by the tables."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    DateTime,
    Enum,
    Numeric,
    String,
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
    ANALYTICS = "analytics"  # an analytics run of the guest computed it
    CLI = "cli"  # an operator recorded it with `flask connections add --score`


class AnalyticsRunStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"  # started, not yet scoring
    PROCESSING = "processing"  # the scorer is at work
    SUCCESS = "success"
    FAILED = "failed"


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class ActorKind(enum.StrEnum):
    USER = "user"
    API_CLIENT = "api_client"
    CLI = "cli"


class Money(TypeDecorator[Decimal]):
    """An exact amount with two decimals: NUMERIC(18, 2), kept as text on SQLite.

    SQLite has no decimal type (it would round through a float), so there the exact digits are
    stored as text and read back as a Decimal.
    """

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(24))
        return dialect.type_descriptor(Numeric(18, 2))

    def process_bind_param(self, value: Decimal | None, dialect) -> Decimal | str | None:
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal("0.01"))
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(Decimal("0.01"))


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"
    FAILED = "failed"  # set aside after the last attempt; `flask outbox retry` revives it


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
