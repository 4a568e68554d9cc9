"""The tables. Invariants of the contract live here as database constraints too.

One module per area; everything is importable from app.models.
"""

from app.models.audit import AuditEvent
from app.models.connections import (
    ConnectionAction,
    GuestConnection,
    GuestInvitation,
    OutboxMessage,
    ScoreChange,
)
from app.models.organizations import ApiClient, Membership, Organization, SigningKey, User
from app.models.saved_filters import SavedFilter
from app.models.types import (
    ActionStatus,
    ActionType,
    ActorKind,
    ConnectionStatus,
    InvitationStatus,
    Role,
    ScoreSource,
    UTCDateTime,
    utcnow,
)

__all__ = [
    "ActionStatus",
    "ActionType",
    "ActorKind",
    "ApiClient",
    "AuditEvent",
    "ConnectionAction",
    "ConnectionStatus",
    "GuestConnection",
    "GuestInvitation",
    "InvitationStatus",
    "Membership",
    "Organization",
    "OutboxMessage",
    "Role",
    "SavedFilter",
    "ScoreChange",
    "ScoreSource",
    "SigningKey",
    "UTCDateTime",
    "User",
    "utcnow",
]
