"""The tables. Invariants of the contract live here as database constraints too.

One module per area; everything is importable from app.models.
"""

from app.models.analytics import AnalyticsRun, FinancialStatement
from app.models.audit import AuditEvent
from app.models.connections import (
    ConnectionAction,
    GuestConnection,
    GuestInvitation,
    OutboxMessage,
    ScoreChange,
)
from app.models.organizations import (
    ApiClient,
    Membership,
    Organization,
    SigningKey,
    SsoLink,
    User,
)
from app.models.saved_filters import SavedFilter
from app.models.sessions import BrowserSession
from app.models.types import (
    ActionStatus,
    ActionType,
    ActorKind,
    AnalyticsRunStatus,
    ConnectionStatus,
    DeliveryStatus,
    InvitationStatus,
    OutboxStatus,
    Role,
    ScoreSource,
    UTCDateTime,
    utcnow,
)
from app.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ActionStatus",
    "ActionType",
    "ActorKind",
    "AnalyticsRun",
    "AnalyticsRunStatus",
    "ApiClient",
    "AuditEvent",
    "BrowserSession",
    "ConnectionAction",
    "ConnectionStatus",
    "FinancialStatement",
    "DeliveryStatus",
    "GuestConnection",
    "GuestInvitation",
    "InvitationStatus",
    "Membership",
    "Organization",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "SavedFilter",
    "ScoreChange",
    "ScoreSource",
    "SigningKey",
    "SsoLink",
    "UTCDateTime",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "utcnow",
]
