"""The audit trail: who changed what, and when, for every write.

Write services take an Actor and call record() before they commit, so the event and the change
are one transaction: both are saved, or neither is.
"""

from __future__ import annotations

import enum
import getpass
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam

from app.access import Principal
from app.extensions import db
from app.models import ActorKind, ApiClient, AuditEvent, User, utcnow
from app.schemas import format_score, format_timestamp

LABEL_LENGTH = 300


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in user, an API client, or someone at the command line."""

    kind: ActorKind
    id: str
    label: str  # readable, kept with the event: "Nora Admin <admin@northwind.example>"

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """Return the actor for a principal, labelled with the user's or client's name."""
        if principal.kind == ActorKind.API_CLIENT:
            name = db.session.scalar(
                db.select(ApiClient.name).where(ApiClient.client_id == principal.id)
            )
            label = f"API client {name} ({principal.id})" if name else f"API client {principal.id}"
            return cls(ActorKind.API_CLIENT, principal.id, label[:LABEL_LENGTH])
        user = db.session.get(User, uuid.UUID(principal.id))
        if user is None:
            label = f"user {principal.id}"
        elif user.name:
            label = f"{user.name} <{user.email}>"
        else:
            label = user.email
        return cls(ActorKind.USER, principal.id, label[:LABEL_LENGTH])

    @classmethod
    def mailbox(cls, email: str) -> Actor:
        """Return the actor for whoever read a link sent to this e-mail and followed it."""
        return cls(ActorKind.USER, f"mailbox:{email}"[:128], f"{email} (confirmation link)")

    @classmethod
    def cli(cls) -> Actor:
        """Return the actor for a flask command, named by the operating-system login."""
        try:
            login = getpass.getuser()
        except (OSError, KeyError):  # no login name in some containers
            login = "unknown"
        return cls(ActorKind.CLI, login[:128], f"command line ({login})"[:LABEL_LENGTH])


class AuditAction(enum.StrEnum):
    """What an event records; the value is kept in the trail, the label shown on pages."""

    GUEST_CONNECTION_CREATED = "guest_connection.created", "Connected"
    GUEST_CONNECTION_ARCHIVED = "guest_connection.archived", "Archived"
    GUEST_CONNECTION_UNARCHIVED = "guest_connection.unarchived", "Unarchived"
    GUEST_CONNECTION_DISCONNECTED = "guest_connection.disconnected", "Disconnected"
    GUEST_CONNECTION_RECONNECTED = "guest_connection.reconnected", "Reconnected"
    ANALYTICS_REQUESTED = "guest_connection.analytics_requested", "Analytics requested"
    SCORE_UPDATED = "guest_connection.score_updated", "Score updated"
    DISCONNECTION_NOTIFIED = (
        "guest_connection.disconnection_notified",
        "Guest told of the disconnection",
    )
    FINANCIAL_STATEMENT_ADDED = "financial_statement.added", "Financial statement added"
    ANALYTICS_RUN_STARTED = "analytics_run.started", "Analytics run started"
    ANALYTICS_RUN_SUCCEEDED = "analytics_run.succeeded", "Analytics run succeeded"
    ANALYTICS_RUN_FAILED = "analytics_run.failed", "Analytics run failed"
    INVITATION_CREATED = "invitation.created", "Invitation sent"
    INVITATION_RESENT = "invitation.resent", "Invitation sent again"
    INVITATION_ARCHIVED = "invitation.archived", "Invitation withdrawn"
    INVITATION_UNARCHIVED = "invitation.unarchived", "Invitation restored"
    INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
    API_CLIENT_CREATED = "api_client.created", "API client created"
    API_CLIENT_REVOKED = "api_client.revoked", "API client revoked"
    ORGANIZATION_CREATED = "organization.created", "Organization created"
    ORGANIZATION_EMAIL_CONFIRMED = "organization.email_confirmed", "Organization e-mail confirmed"
    MEMBERSHIP_ADDED = "membership.added", "Member added"
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created", "Webhook endpoint added"
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted", "Webhook endpoint removed"
    WEBHOOK_ENDPOINT_TESTED = "webhook_endpoint.tested", "Webhook test event sent"
    OUTBOX_MESSAGE_RETRIED = "outbox_message.retried", "Message queued again"
    MEMBERSHIP_ROLE_CHANGED = "membership.role_changed", "Member's role changed"
    MEMBERSHIP_REMOVED = "membership.removed", "Member removed"
    SSO_LINKED = "organization.sso_linked", "Sign-in by claim linked"
    SSO_UNLINKED = "organization.sso_unlinked", "Sign-in by claim unlinked"
    SAVED_FILTER_SAVED = "saved_filter.saved", "Filter saved"
    SAVED_FILTER_DELETED = "saved_filter.deleted", "Saved filter deleted"

    def __new__(cls, value: str, label: str) -> AuditAction:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def label_of(cls, value: str) -> str:
        """Return how people read an action kept in the trail; an unknown one shows its code."""
        try:
            return cls(value).label
        except ValueError:
            return value


class Subject(NamedTuple):
    """What an event is about, e.g. ("guest_connection", the guest organization's id)."""

    type: str
    id: str

    @classmethod
    def guest_connection(cls, guest_id: uuid.UUID) -> Subject:
        return cls("guest_connection", str(guest_id))

    @classmethod
    def api_client(cls, client_id: str) -> Subject:
        return cls("api_client", client_id)

    @classmethod
    def organization(cls, organization_id: uuid.UUID) -> Subject:
        return cls("organization", str(organization_id))

    @classmethod
    def invitation(cls, invitation_id: uuid.UUID) -> Subject:
        return cls("invitation", str(invitation_id))

    @classmethod
    def financial_statement(cls, statement_id: uuid.UUID) -> Subject:
        return cls("financial_statement", str(statement_id))

    @classmethod
    def analytics_run(cls, run_id: uuid.UUID) -> Subject:
        return cls("analytics_run", str(run_id))

    @classmethod
    def user(cls, user_id: uuid.UUID) -> Subject:
        return cls("user", str(user_id))

    @classmethod
    def webhook_endpoint(cls, endpoint_id: uuid.UUID) -> Subject:
        return cls("webhook_endpoint", str(endpoint_id))

    @classmethod
    def outbox_message(cls, message_id: uuid.UUID) -> Subject:
        return cls("outbox_message", str(message_id))

    @classmethod
    def saved_filter(cls, filter_id: uuid.UUID) -> Subject:
        return cls("saved_filter", str(filter_id))


def record(
    organization_id: uuid.UUID,
    actor: Actor,
    action: AuditAction,
    subject: Subject,
    changes: Mapping[str, tuple[Any, Any]],
) -> AuditEvent:
    """Add an event to the session; the caller's commit saves it together with the change."""
    event = AuditEvent(
        organization_id=organization_id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action.value,
        subject_type=subject.type,
        subject_id=subject.id,
        changes={
            field: [_plain(before), _plain(after)] for field, (before, after) in changes.items()
        },
        created_at=utcnow(),
    )
    db.session.add(event)
    return event


# Built once (a detail page reads a subject's events on every view), read as plain rows.
_EVENTS = db.select(*AuditEvent.__table__.columns).where(
    AuditEvent.organization_id == bindparam("organization_id")
)
_NEWEST_FIRST = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
_PAGE = (bindparam("limit"), bindparam("offset"))
_ORGANIZATION_EVENTS = _EVENTS.order_by(*_NEWEST_FIRST).limit(_PAGE[0]).offset(_PAGE[1])
_SUBJECT_EVENTS = (
    _EVENTS.where(
        AuditEvent.subject_type == bindparam("subject_type"),
        AuditEvent.subject_id == bindparam("subject_id"),
    )
    .order_by(*_NEWEST_FIRST)
    .limit(_PAGE[0])
    .offset(_PAGE[1])
)


def list_events(
    organization_id: uuid.UUID,
    subject: Subject | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[Row]:
    """Return the organization's events (about one subject, when given), newest first.

    Each row has the fields of an AuditEvent (action, actor_label, changes, created_at, ...).
    """
    parameters = {"organization_id": organization_id, "limit": limit, "offset": offset}
    statement = _ORGANIZATION_EVENTS
    if subject is not None:
        statement = _SUBJECT_EVENTS
        parameters |= {"subject_type": subject.type, "subject_id": subject.id}
    return list(db.session.connection().execute(statement, parameters))


def describe_changes(changes: Mapping[str, list[Any]], arrow: str = "→") -> str:
    """Return the changes as one readable line: "archived: false → true; ..."."""
    return "; ".join(
        f"{field}: {_shown(before)} {arrow} {_shown(after)}"
        for field, (before, after) in changes.items()
    )


def _plain(value: Any) -> Any:
    """Return the value as JSON can store it (timestamps as RFC 3339, ids as text)."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_score(value)  # the one number kept as a float: a score
    return str(value)
