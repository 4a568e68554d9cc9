"""The guest's side of a connection: its hosts, leaving and coming back, and being told so.

A host connection is the same row as a guest connection, seen from the guest.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, func, update
from sqlalchemy.orm import aliased

from app import audit, schemas
from app.audit import Actor, Subject
from app.connections import GuestConnectionNotFound, contains_text, lock_connection
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    ActionStatus,
    ConnectionAction,
    ConnectionStatus,
    GuestConnection,
    Membership,
    Organization,
    OutboxMessage,
    Role,
    User,
    utcnow,
)

Host = aliased(Organization, name="host")


class HostConnectionNotFound(NotFound):
    code = "host_connection_not_found"
    message = "This organization has no connection with that host organization."


class NotDisconnected(Conflict):
    code = "guest_connection_not_disconnected"
    message = "The guest is still connected: only a disconnected guest can be notified."


class NoRecipient(Conflict):
    code = "guest_email_unknown"
    message = "The guest organization has no e-mail address and no owner to notify."


def _host_connection_select() -> Select:
    """Select every field of the HostConnection object, joined from the host organization."""
    return db.select(
        GuestConnection.host_organization_id,
        GuestConnection.guest_organization_id,
        Host.name.label("host_name"),
        Host.email.label("host_email"),
        GuestConnection.owner_email,
        GuestConnection.status,
        GuestConnection.archived,
        GuestConnection.created_at,
        GuestConnection.updated_at,
        GuestConnection.archived_at,
        GuestConnection.active_action_type,
        GuestConnection.active_action_updated_at,
    ).join(Host, Host.id == GuestConnection.host_organization_id)


def get_host_connection(guest_id: uuid.UUID, host_id: uuid.UUID) -> schemas.HostConnection:
    """Return the guest's connection with this host, or raise HostConnectionNotFound."""
    row = db.session.execute(
        _host_connection_select().where(
            GuestConnection.guest_organization_id == guest_id,
            GuestConnection.host_organization_id == host_id,
        )
    ).one_or_none()
    if row is None:
        raise HostConnectionNotFound(loc=["path", "host_org_id"])
    return schemas.HostConnection.model_validate(row._mapping)


_SEARCH_COLUMNS = {
    schemas.HostConnectionSearchField.HOST_NAME: Host.name,
    schemas.HostConnectionSearchField.HOST_EMAIL: Host.email,
    schemas.HostConnectionSearchField.OWNER_EMAIL: GuestConnection.owner_email,
}
_ORDER_COLUMNS = {
    schemas.HostConnectionOrder.HOST_NAME: Host.name,
    schemas.HostConnectionOrder.HOST_EMAIL: Host.email,
    schemas.HostConnectionOrder.OWNER_EMAIL: GuestConnection.owner_email,
    schemas.HostConnectionOrder.CREATED_AT: GuestConnection.created_at,
    schemas.HostConnectionOrder.UPDATED_AT: GuestConnection.updated_at,
    schemas.HostConnectionOrder.ARCHIVED_AT: GuestConnection.archived_at,
    schemas.HostConnectionOrder.ACTIVE_ACTION_UPDATED_AT: GuestConnection.active_action_updated_at,
}


def list_host_connections(
    guest_id: uuid.UUID, query: schemas.HostConnectionQuery
) -> schemas.HostConnectionList:
    """Return one page of the guest's hosts and how many match in all."""
    conditions = [
        GuestConnection.guest_organization_id == guest_id,
        GuestConnection.status.in_(query.statuses),
    ]
    if query.archived is not None:
        conditions.append(GuestConnection.archived.is_(query.archived))
    if query.search_text:
        column = _SEARCH_COLUMNS[query.search_field]
        conditions.append(contains_text(column, query.search_text))
    total = db.session.scalar(
        db.select(func.count())
        .select_from(GuestConnection)
        .join(Host, Host.id == GuestConnection.host_organization_id)
        .where(*conditions)
    )
    column = _ORDER_COLUMNS[query.order_by]
    ordered = column.desc() if query.order_dir == schemas.OrderDirection.DESC else column.asc()
    rows = db.session.execute(
        _host_connection_select()
        .where(*conditions)
        .order_by(ordered.nulls_last(), GuestConnection.host_organization_id.asc())
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    items = [schemas.HostConnection.model_validate(row._mapping) for row in rows]
    return schemas.HostConnectionList(items=items, total_items=total or 0)


def set_status(
    guest_id: uuid.UUID, host_id: uuid.UUID, status: ConnectionStatus, *, actor: Actor
) -> schemas.HostConnection:
    """Disconnect the guest from a host or reconnect it; repeating it changes nothing.

    Disconnecting also closes the host's open requests: a guest that left owes no analytics.
    """
    connection = lock_connection(host_id, guest_id)
    if connection is None:
        raise HostConnectionNotFound(loc=["path", "host_org_id"])
    if connection.status != status:
        now = utcnow()
        changes = {"status": (connection.status, status)}
        connection.status = status
        connection.updated_at = now
        if status == ConnectionStatus.DISCONNECTED:
            resolve_open_actions(guest_id, now, host_id=host_id)
            if connection.active_action_type is not None:
                changes["active_action_type"] = (connection.active_action_type, None)
            connection.active_action_type = None
            connection.active_action_updated_at = now
        # In the host's trail: it is the host's connection that changed.
        audit.record(
            host_id,
            actor,
            "guest_connection."
            + ("disconnected" if status == ConnectionStatus.DISCONNECTED else "reconnected"),
            Subject.guest_connection(guest_id),
            changes,
        )
        db.session.commit()
    return get_host_connection(guest_id, host_id)


def resolve_open_actions(
    guest_id: uuid.UUID, now: datetime, *, host_id: uuid.UUID | None = None
) -> int:
    """Mark the guest's open actions (with one host, or all) resolved; return how many."""
    statement = update(ConnectionAction).where(
        ConnectionAction.guest_organization_id == guest_id,
        ConnectionAction.status == ActionStatus.ACTIVE,
    )
    if host_id is not None:
        statement = statement.where(ConnectionAction.host_organization_id == host_id)
    result = db.session.execute(
        statement.values(status=ActionStatus.RESOLVED, resolved_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def notify_disconnection(
    host_id: uuid.UUID, guest_id: uuid.UUID, *, actor: Actor
) -> schemas.DisconnectionNotification:
    """Queue a message telling a disconnected guest that its host noticed; return it."""
    connection = db.session.scalar(
        db.select(GuestConnection).where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id == guest_id,
        )
    )
    if connection is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    if connection.status != ConnectionStatus.DISCONNECTED:
        raise NotDisconnected(loc=["path", "guest_org_id"])
    host, guest = connection.host, connection.guest
    message = OutboxMessage(
        kind="disconnection_notification",
        recipient_email=_guest_recipient(guest),
        subject=f"{host.name} noticed that {guest.name} disconnected",
        body=(
            f"{host.name} noticed that {guest.name} disconnected from it. "
            f"If this was a mistake, reconnect from your list of hosts; "
            f"for questions, write to {connection.owner_email}."
        ),
        host_organization_id=host_id,
        guest_organization_id=guest_id,
        created_at=utcnow(),
    )
    db.session.add(message)
    audit.record(
        host_id,
        actor,
        "guest_connection.disconnection_notified",
        Subject.guest_connection(guest_id),
        {"recipient_email": (None, message.recipient_email)},
    )
    db.session.commit()
    return schemas.DisconnectionNotification(
        id=message.id,
        host_organization_id=host_id,
        guest_organization_id=guest_id,
        recipient_email=message.recipient_email,
        created_at=message.created_at,
        sent_at=None,
    )


def _guest_recipient(guest: Organization) -> str:
    """Return where to write to a guest: its e-mail, else its first owner's."""
    if guest.email:
        return guest.email
    owner_email = db.session.scalar(
        db.select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == guest.id, Membership.role == Role.OWNER)
        .order_by(User.email)
        .limit(1)
    )
    if owner_email is None:
        raise NoRecipient()
    return owner_email
