"""The guest's side of a connection: its hosts, leaving and coming back, and being told so.

A host connection is the same row as a guest connection, seen from the guest.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func
from sqlalchemy.orm import aliased

from app import schemas
from app.errors import NotFound
from app.extensions import db
from app.models import ConnectionStatus, GuestConnection, Organization, utcnow
from app.schemas import WebhookEventType
from app.services import audit, webhooks
from app.services.analytics import resolve_open_actions
from app.services.audit import Actor, AuditAction, Subject
from app.services.guest_connections import get_guest_connection, lock_connection
from app.services.lists import SortKey, changed_since, contains_text, one_page

Host = aliased(Organization, name="host")


class HostConnectionNotFound(NotFound):
    code = "host_connection_not_found"
    message = "This organization has no connection with that host organization."


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
    conditions.extend(changed_since(GuestConnection.updated_at, query))
    counted = (
        db.select(func.count())
        .select_from(GuestConnection)
        .join(Host, Host.id == GuestConnection.host_organization_id)
    )
    order = SortKey(
        query.order_by.value,
        _ORDER_COLUMNS[query.order_by],
        query.order_dir,
        "host_organization_id",
        GuestConnection.host_organization_id,
    )
    items, total, next_cursor = one_page(
        _host_connection_select().where(*conditions),
        counted.where(*conditions),
        order,
        query,
        schemas.HostConnection,
    )
    return schemas.HostConnectionList(items=items, total_items=total, next_cursor=next_cursor)


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
            AuditAction.GUEST_CONNECTION_DISCONNECTED
            if status == ConnectionStatus.DISCONNECTED
            else AuditAction.GUEST_CONNECTION_RECONNECTED,
            Subject.guest_connection(guest_id),
            changes,
        )
        # The host's endpoints hear of its guest, the guest's of its host.
        webhooks.emit(
            host_id,
            WebhookEventType.GUEST_CONNECTION_STATUS_CHANGED,
            lambda: get_guest_connection(host_id, guest_id),
        )
        webhooks.emit(
            guest_id,
            WebhookEventType.HOST_CONNECTION_STATUS_CHANGED,
            lambda: get_host_connection(guest_id, host_id),
        )
        db.session.commit()
    return get_host_connection(guest_id, host_id)
