"""The connections service: every query and change of guest connections lives here.

Both faces call these functions, so the API and the pages always show the same data.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app import audit, schemas
from app.audit import Actor, Subject
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    ConnectionStatus,
    GuestConnection,
    Organization,
    ScoreChange,
    ScoreSource,
    utcnow,
)
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


# Built once (the hottest read): building it on every call cost as much as running it.
_ONE_GUEST_CONNECTION = _guest_connection_select().where(
    GuestConnection.host_organization_id == bindparam("host_id"),
    GuestConnection.guest_organization_id == bindparam("guest_id"),
)


def get_guest_connection(host_id: uuid.UUID, guest_id: uuid.UUID) -> schemas.GuestConnection:
    """Return the host's connection with this guest, or raise GuestConnectionNotFound."""
    # Run on the session's connection, as Core: the row needs no ORM loading, which was a
    # fifth of an API call. Flush first, as the ORM would, so a caller's pending change shows.
    db.session.flush()
    row = (
        db.session.connection()
        .execute(_ONE_GUEST_CONNECTION, {"host_id": host_id, "guest_id": guest_id})
        .one_or_none()
    )
    if row is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    return schemas.GuestConnection.model_validate(row._mapping)


def list_guest_connections(
    host_id: uuid.UUID, query: schemas.GuestConnectionQuery
) -> schemas.GuestConnectionList:
    """Return one page of the host's guest connections and how many match in all."""
    conditions = _list_conditions(host_id, query)
    counted = db.select(func.count()).select_from(GuestConnection)
    if _needs_guest(query):
        counted = counted.join(Guest, Guest.id == GuestConnection.guest_organization_id)
    # Without the join, PostgreSQL counts from a host index alone.
    total = db.session.scalar(counted.where(*conditions))
    rows = db.session.execute(
        _guest_connection_select()
        .where(*conditions)
        .order_by(*_list_order(query))
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    items = [schemas.GuestConnection.model_validate(row._mapping) for row in rows]
    return schemas.GuestConnectionList(items=items, total_items=total or 0)


def iter_guest_connections(
    host_id: uuid.UUID, query: schemas.GuestConnectionQuery, *, batch_size: int = 1000
) -> Iterator[schemas.GuestConnection]:
    """Yield every connection matching the query's filters, in its order, ignoring its page.

    Rows come from the database batch_size at a time (a server-side cursor on PostgreSQL), so
    an export of 100 000 guests never holds them all in memory. The caller must consume the
    iterator inside the app context (e.g. flask.stream_with_context).
    """
    statement = (
        _guest_connection_select()
        .where(*_list_conditions(host_id, query))
        .order_by(*_list_order(query))
        .execution_options(yield_per=batch_size)
    )
    for row in db.session.execute(statement):
        yield schemas.GuestConnection.model_validate(row._mapping)


_SEARCH_COLUMNS = {
    schemas.GuestConnectionSearchField.GUEST_NAME: Guest.name,
    schemas.GuestConnectionSearchField.GUEST_EMAIL: Guest.email,
    schemas.GuestConnectionSearchField.OWNER_EMAIL: GuestConnection.owner_email,
}
_ORDER_COLUMNS = {
    schemas.GuestConnectionOrder.GUEST_NAME: Guest.name,
    schemas.GuestConnectionOrder.GUEST_EMAIL: Guest.email,
    schemas.GuestConnectionOrder.OWNER_EMAIL: GuestConnection.owner_email,
    schemas.GuestConnectionOrder.TOTAL_SCORE: GuestConnection.total_score,
    schemas.GuestConnectionOrder.CREATED_AT: GuestConnection.created_at,
    schemas.GuestConnectionOrder.UPDATED_AT: GuestConnection.updated_at,
    schemas.GuestConnectionOrder.SCORE_UPDATED_AT: GuestConnection.score_updated_at,
    schemas.GuestConnectionOrder.ARCHIVED_AT: GuestConnection.archived_at,
    schemas.GuestConnectionOrder.ACTIVE_ACTION_UPDATED_AT: GuestConnection.active_action_updated_at,
}


def _needs_guest(query: schemas.GuestConnectionQuery) -> bool:
    """Tell whether the filters read the guest organization's columns."""
    searches_guest = query.search_text and query.search_field in (
        schemas.GuestConnectionSearchField.GUEST_NAME,
        schemas.GuestConnectionSearchField.GUEST_EMAIL,
    )
    return bool(searches_guest) or query.parent_organization_id is not None


def _list_conditions(host_id: uuid.UUID, query: schemas.GuestConnectionQuery) -> list:
    conditions = [
        GuestConnection.host_organization_id == host_id,
        GuestConnection.status.in_(query.statuses),
    ]
    if query.archived is not None:
        conditions.append(GuestConnection.archived.is_(query.archived))
    if query.search_text:
        conditions.append(contains_text(_SEARCH_COLUMNS[query.search_field], query.search_text))
    if query.parent_organization_id is not None:
        conditions.append(effective_parent_id == query.parent_organization_id)
    return conditions


def contains_text(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """Return the condition: column holds text, case-insensitively, with %, _ and \\ literal.

    lower(column) LIKE '%text%' is the shape the trigram indexes of PostgreSQL serve; every
    list's search uses it, so all of them match the same way.
    """
    return func.lower(column).like(_substring_pattern(text), escape="\\")


def _substring_pattern(text: str) -> str:
    """Return a LIKE pattern (escape character backslash) matching text literally, lower-cased."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Columns that are never empty: no NULLS LAST for them, so that PostgreSQL can read an index
# backwards for the descending order (it does not take DESC NULLS LAST for plain DESC).
_NEVER_EMPTY = {
    schemas.GuestConnectionOrder.GUEST_NAME,
    schemas.GuestConnectionOrder.OWNER_EMAIL,
    schemas.GuestConnectionOrder.CREATED_AT,
    schemas.GuestConnectionOrder.UPDATED_AT,
}


def _list_order(query: schemas.GuestConnectionQuery) -> list:
    """Return the ORDER BY: the field, empty values last, then the guest id, in one direction.

    The guest id breaks ties, so that pages never overlap or skip; it follows the direction so
    that each order is exactly the order of one index (see migration 0002).
    """
    descending = query.order_dir == schemas.OrderDirection.DESC
    column = _ORDER_COLUMNS[query.order_by]
    ordered = column.desc() if descending else column.asc()
    if query.order_by not in _NEVER_EMPTY:
        ordered = ordered.nulls_last()  # the same on every database
    tie_breaker = GuestConnection.guest_organization_id
    return [ordered, tie_breaker.desc() if descending else tie_breaker.asc()]


@dataclass(frozen=True)
class GuestCounts:
    """How many guest connections a host has, by status and archive state."""

    total: int = 0
    connected: int = 0
    disconnected: int = 0
    archived: int = 0


def count_guest_connections(host_id: uuid.UUID) -> GuestCounts:
    """Return the host's guest connection counts (one grouped query)."""
    rows = db.session.execute(
        db.select(GuestConnection.status, GuestConnection.archived, func.count())
        .where(GuestConnection.host_organization_id == host_id)
        .group_by(GuestConnection.status, GuestConnection.archived)
    ).all()
    counts = {"total": 0, "connected": 0, "disconnected": 0, "archived": 0}
    for status, archived, number in rows:
        counts["total"] += number
        counts[ConnectionStatus(status).value] += number
        if archived:
            counts["archived"] += number
    return GuestCounts(**counts)


@dataclass(frozen=True)
class GuestSummary:
    guest_organization_id: uuid.UUID
    guest_name: str


@dataclass(frozen=True)
class ParentAtHost:
    """A parent organization as the host sees it: is it a guest too, and its other guests here."""

    parent_is_guest: bool
    subsidiaries: list[GuestSummary]
    more_subsidiaries: bool  # there are more than listed


def parent_at_host(
    host_id: uuid.UUID, parent_id: uuid.UUID, guest_id: uuid.UUID, limit: int = 20
) -> ParentAtHost:
    """Return whether the parent is also the host's guest, and its other subsidiaries there.

    One query: the host's connections whose guest is the parent or whose parent (as shown,
    by the one rule) is the parent, except the guest being viewed.
    """
    rows = db.session.execute(
        db.select(GuestConnection.guest_organization_id, Guest.name)
        .join(Guest, Guest.id == GuestConnection.guest_organization_id)
        .where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id != guest_id,
            (effective_parent_id == parent_id)
            | (GuestConnection.guest_organization_id == parent_id),
        )
        .order_by(
            (GuestConnection.guest_organization_id == parent_id).desc(),
            Guest.name,
            GuestConnection.guest_organization_id,
        )
        .limit(limit + 2)  # the parent itself, and one more than shown tells "there are more"
    ).all()
    parent_is_guest = bool(rows) and rows[0][0] == parent_id
    others = [GuestSummary(row[0], row[1]) for row in rows if row[0] != parent_id]
    return ParentAtHost(parent_is_guest, others[:limit], len(others) > limit)


def set_archived(
    host_id: uuid.UUID, guest_id: uuid.UUID, archived: bool, *, actor: Actor
) -> schemas.GuestConnection:
    """Archive or unarchive the host's connection with a guest; repeating it changes nothing."""
    connection = _connection_for_update(host_id, guest_id)
    if connection.archived != archived:
        now = utcnow()
        before = (connection.archived, connection.archived_at)
        connection.archived = archived
        connection.archived_at = now if archived else None
        connection.updated_at = now
        audit.record(
            host_id,
            actor,
            "guest_connection.archived" if archived else "guest_connection.unarchived",
            Subject.guest_connection(guest_id),
            {
                "archived": (before[0], connection.archived),
                "archived_at": (before[1], connection.archived_at),
            },
        )
        db.session.commit()
    return get_guest_connection(host_id, guest_id)


def lock_connection(host_id: uuid.UUID, guest_id: uuid.UUID) -> GuestConnection | None:
    """Return the connection row locked for update (where the database can), or None."""
    return db.session.scalar(
        db.select(GuestConnection)
        .where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id == guest_id,
        )
        .with_for_update()
    )


def _connection_for_update(host_id: uuid.UUID, guest_id: uuid.UUID) -> GuestConnection:
    connection = lock_connection(host_id, guest_id)
    if connection is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    return connection


def add_guest_connection(
    host_id: uuid.UUID,
    guest_id: uuid.UUID,
    owner_email: str,
    *,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    total_score: float | None = None,
    parent_id: uuid.UUID | None = None,
    archived: bool = False,
    actor: Actor,
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
        raise _already_connected()
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
    try:
        # The flush meets the unique pair first: the score history and invitations refer to
        # the connection.
        db.session.flush()
    except IntegrityError:
        # Another request connected the same pair between our check and our insert.
        db.session.rollback()
        raise _already_connected() from None
    if total_score is not None:
        db.session.add(
            ScoreChange(
                host_organization_id=host_id,
                guest_organization_id=guest_id,
                total_score=total_score,
                source=ScoreSource.CLI,
                changed_at=now,
            )
        )
    if status == ConnectionStatus.CONNECTED:
        # Imported here: the invitations service builds on this module.
        from app.invitations import mark_accepted_by_system

        mark_accepted_by_system(host_id, guest_id, now)
    audit.record(
        host_id,
        actor,
        "guest_connection.created",
        Subject.guest_connection(guest_id),
        {
            field: (None, getattr(connection, field))
            for field in (
                "status",
                "owner_email",
                "total_score",
                "parent_organization_id",
                "archived",
            )
            if getattr(connection, field) is not None
        },
    )
    db.session.commit()
    return connection


def _already_connected() -> Conflict:
    return Conflict("These organizations are already connected.", code="already_connected")
