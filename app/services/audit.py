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
    INVITATION_CREATED = "invitation.created", "Invitation sent"
    INVITATION_RESENT = "invitation.resent", "Invitation sent again"
    INVITATION_ARCHIVED = "invitation.archived", "Invitation withdrawn"
    INVITATION_UNARCHIVED = "invitation.unarchived", "Invitation restored"
    INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
    API_CLIENT_CREATED = "api_client.created", "API client created"
    API_CLIENT_REVOKED = "api_client.revoked", "API client revoked"
    ORGANIZATION_CREATED = "organization.created", "Organization created"
    MEMBERSHIP_ADDED = "membership.added", "Member added"
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
    def user(cls, user_id: uuid.UUID) -> Subject:
        return cls("user", str(user_id))

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


def list_events(
    organization_id: uuid.UUID,
    subject: Subject | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[AuditEvent]:
    """Return the organization's events (about one subject, when given), newest first."""
    query = db.select(AuditEvent).where(AuditEvent.organization_id == organization_id)
    if subject is not None:
        query = query.where(
            AuditEvent.subject_type == subject.type, AuditEvent.subject_id == subject.id
        )
    query = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    return list(db.session.scalars(query.limit(limit).offset(offset)))


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
