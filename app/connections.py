"""The connections service: every query and change of guest connections lives here.

Both faces call these functions, so the API and the pages always show the same data.
"""

from __future__ import annotations

import math
import uuid

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.orm import aliased

from app import schemas
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import ConnectionStatus, GuestConnection, Organization, utcnow
from app.organizations import checked_email, get_organization, invalid

Guest = aliased(Organization, name="guest")
Parent = aliased(Organization, name="parent")

# The one rule for the parent shown on a connection: the host's record, else the guest's own.
effective_parent_id: ColumnElement[uuid.UUID] = func.coalesce(
    GuestConnection.parent_organization_id, Guest.parent_id
)


class GuestConnectionNotFound(NotFound):
    code = "guest_connection_not_found"
    message = "This organization has no guest connection with that guest organization."


def _guest_connection_select() -> Select:
    """Select every field of the GuestConnection object, joined from its organizations."""
    return (
        db.select(
            GuestConnection.host_organization_id,
            GuestConnection.guest_organization_id,
            GuestConnection.status,
            Guest.name.label("guest_name"),
            Guest.email.label("guest_email"),
            GuestConnection.owner_email,
            GuestConnection.archived,
            GuestConnection.created_at,
            GuestConnection.updated_at,
            GuestConnection.total_score,
            GuestConnection.score_updated_at,
            GuestConnection.archived_at,
            GuestConnection.active_action_type,
            GuestConnection.active_action_updated_at,
            effective_parent_id.label("parent_organization_id"),
            Parent.name.label("parent_organization_name"),
        )
        .join(Guest, Guest.id == GuestConnection.guest_organization_id)
        .outerjoin(Parent, Parent.id == effective_parent_id)
    )


def get_guest_connection(host_id: uuid.UUID, guest_id: uuid.UUID) -> schemas.GuestConnection:
    """Return the host's connection with this guest, or raise GuestConnectionNotFound."""
    row = db.session.execute(
        _guest_connection_select().where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id == guest_id,
        )
    ).one_or_none()
    if row is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    return schemas.GuestConnection.model_validate(row._mapping)


def add_guest_connection(
    host_id: uuid.UUID,
    guest_id: uuid.UUID,
    owner_email: str,
    *,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    total_score: float | None = None,
    parent_id: uuid.UUID | None = None,
    archived: bool = False,
) -> GuestConnection:
    """Connect a guest to a host (as an accepted invitation would) and return the connection."""
    for organization_id in (host_id, guest_id, parent_id):
        if organization_id is not None:
            get_organization(organization_id)
    if host_id == guest_id:
        raise invalid("guest", "An organization cannot be its own guest.")
    if total_score is not None and not (total_score >= 0 and math.isfinite(total_score)):
        raise invalid("score", "The score must be a number of 0 or more.")
    exists = db.session.scalar(
        db.select(GuestConnection.id).where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id == guest_id,
        )
    )
    if exists is not None:
        raise Conflict("These organizations are already connected.", code="already_connected")
    now = utcnow()
    connection = GuestConnection(
        host_organization_id=host_id,
        guest_organization_id=guest_id,
        owner_email=checked_email(owner_email, "owner_email"),
        status=status,
        total_score=total_score,
        score_updated_at=now if total_score is not None else None,
        parent_organization_id=parent_id,
        archived=archived,
        archived_at=now if archived else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(connection)
    db.session.commit()
    return connection
