"""Guest connections: a host's guests — reading them, connecting, archiving, notifying.

Both faces and the commands call these functions, so the API and the pages always show the
same data. A connection is made in one place, connect(); invitations call it too.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    case,
    column,
    func,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app import schemas
from app.database import HotSelect
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    ActionStatus,
    ActionType,
    ConnectionAction,
    ConnectionStatus,
    GuestConnection,
    GuestInvitation,
    InvitationStatus,
    Membership,
    Organization,
    OutboxMessage,
    Role,
    ScoreChange,
    ScoreSource,
    User,
    utcnow,
)
from app.schemas import WebhookEventType
from app.services import audit, rendering, webhooks
from app.services.audit import Actor, AuditAction, Subject
from app.services.lists import (
    PAGE_LIMIT,
    PAGE_OFFSET,
    TRIGRAM,
    SortKey,
    as_items,
    changed_since,
    contains_text,
    like_pattern,
    page_rows,
    page_statement,
    sqlite_trigram_query,
    substring_pattern,
)
from app.services.organizations import checked_email, get_organization, proven_emails_of

# The "model" of a score an operator records with `flask connections add --score` (bulk and
# imported data): no analytics run stands behind it.
OPERATOR_SCORE = "manual (command line)"

Guest = aliased(Organization, name="guest")
Parent = aliased(Organization, name="parent")

# The one rule for the parent shown on a connection: the host's record, else the guest's own.
effective_parent_id: ColumnElement[uuid.UUID] = func.coalesce(
    GuestConnection.parent_organization_id, Guest.parent_id
)


class GuestConnectionNotFound(NotFound):
    code = "guest_connection_not_found"
    message = "This organization has no guest connection with that guest organization."


class AlreadyConnected(Conflict):
    code = "already_connected"
    message = "These organizations are already connected."


class NotDisconnected(Conflict):
    code = "guest_connection_not_disconnected"
    message = "The guest is still connected: only a disconnected guest can be notified."


class NoRecipient(Conflict):
    code = "guest_email_unknown"
    message = "The guest organization has no e-mail address and no owner to notify."


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


# A host's connection with one guest (binds host_id and guest_id): the API's read, and the
# detail page's statement starts from it (app.services.connection_page).
ONE_GUEST_CONNECTION = _guest_connection_select().where(
    GuestConnection.host_organization_id == bindparam("host_id"),
    GuestConnection.guest_organization_id == bindparam("guest_id"),
)
# Built once and run on the driver's cursor: the hottest read of all.
_ONE_GUEST_CONNECTION_READ = HotSelect(ONE_GUEST_CONNECTION)


def get_guest_connection(host_id: uuid.UUID, guest_id: uuid.UUID) -> schemas.GuestConnection:
    """Return the host's connection with this guest, or raise GuestConnectionNotFound."""
    row = _ONE_GUEST_CONNECTION_READ.first(host_id=host_id, guest_id=guest_id)
    if row is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    return schemas.GuestConnection.model_validate(row)


def get_guest_connection_json(host_id: uuid.UUID, guest_id: uuid.UUID) -> bytes:
    """Return get_guest_connection's JSON (schemas.GuestConnection), for the API's read.

    A connection read before, unchanged, is not validated and serialized again (HotSelect's
    first_rendered).
    """
    body = _ONE_GUEST_CONNECTION_READ.first_rendered(
        _guest_connection_json, host_id=host_id, guest_id=guest_id
    )
    if body is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    return body


def _guest_connection_json(row: dict[str, Any]) -> bytes:
    return schemas.GuestConnection.model_validate(row).model_dump_json().encode()


def list_guest_connections(
    host_id: uuid.UUID, query: schemas.GuestConnectionQuery
) -> schemas.GuestConnectionList:
    """Return one page of the host's guest connections and how many match in all."""
    fields, rows, total, next_cursor = _list_page(host_id, query)
    items = as_items(fields, rows, schemas.GuestConnection)
    return schemas.GuestConnectionList(items=items, total_items=total, next_cursor=next_cursor)


def list_guest_connections_json(host_id: uuid.UUID, query: schemas.GuestConnectionQuery) -> bytes:
    """Return list_guest_connections' page as the JSON of GuestConnectionList, byte for byte.

    For the API: the rows go straight into the JSON, without building and validating a model
    per item (what the database holds was validated when written), which was two thirds of
    the list's Python time.
    """
    fields, rows, total, next_cursor = _list_page(host_id, query)
    return rendering.guest_connection_list_json(fields, rows, total, next_cursor)


def _list_page(
    host_id: uuid.UUID, query: schemas.GuestConnectionQuery
) -> tuple[list[str], list, int, str | None]:
    """Return one page of the host's guest connections as read (see lists.page_rows)."""
    shape = _frequent_shape(query)
    if shape is not None:
        rows, counted, statement = _FREQUENT.get(shape) or _build_frequent(shape)
        params = {"host_id": host_id}
        if shape[1] is not None:
            params["search"] = _search_value(query.search_field, query.search_text)
        return page_rows(
            rows, counted, _list_order(query), query, statement=statement, params=params
        )
    matches = _host_matches(host_id, query)
    rows, counted = _list_statements(host_id, query, matches)
    return page_rows(rows, counted, _list_order(query), query)


def _list_statements(
    host_id: uuid.UUID | BindParameter, query: schemas.GuestConnectionQuery, matches: CTE | None
) -> tuple[Select, Select]:
    """Return the statements of the list's rows (unsorted, whole) and of their count."""
    conditions = _list_conditions(host_id, query, matches)
    if matches is not None:
        # Counted from the host's matches; other filters read each match's own connection.
        counted = db.select(func.count()).select_from(matches)
        filters = _filters(query)
        if filters:
            # EXISTS, so that each database probes the connection of each match rather than
            # walk all the host's connections (SQLite's planner knows no CTE's size).
            connection = db.select(GuestConnection.id).where(
                GuestConnection.host_organization_id == host_id,
                GuestConnection.guest_organization_id == matches.c.guest_organization_id,
                *filters,
            )
            if _needs_guest(query, matches):
                connection = connection.join(
                    Guest, Guest.id == GuestConnection.guest_organization_id
                )
            counted = counted.where(connection.exists())
    else:
        counted = db.select(func.count()).select_from(GuestConnection)
        if _needs_guest(query, matches):
            counted = counted.join(Guest, Guest.id == GuestConnection.guest_organization_id)
        # Without the join, PostgreSQL counts from a host index alone.
        counted = counted.where(*conditions)
    return _guest_connection_select().where(*conditions), counted


# The statements of the frequent lists (no filter but an indexed search, no cursor), built
# once per shape with the host, the search and the page as bound parameters: building one
# (and its cache key) on each call cost about 1 ms, as much as reading and rendering its rows.
# At most 2 databases x 4 searches x 9 orders x 2 directions.
_FREQUENT: dict[tuple, tuple[Select, Select, Select]] = {}


def _frequent_shape(query: schemas.GuestConnectionQuery) -> tuple | None:
    """Return the key of the query's statement in _FREQUENT, or None if it is not one of them."""
    if query.cursor is not None or _filters(query):
        return None
    text = query.search_text
    if text and len(text) < TRIGRAM:
        return None
    field = query.search_field if text else None
    return (db.engine.dialect.name, field, query.order_by, query.order_dir)


def _build_frequent(shape: tuple) -> tuple[Select, Select, Select]:
    _, field, order_by, order_dir = shape
    query = schemas.GuestConnectionQuery(order_by=order_by, order_dir=order_dir)
    host = bindparam("host_id", type_=Uuid)
    matches = None
    if field is not None:
        matches = _matches_of(host, field, bindparam("search", type_=String))
        query = query.model_copy(update={"search_field": field, "search_text": "bound"})
    rows, counted = _list_statements(host, query, matches)
    order = _list_order(query)
    if shape[0] == "postgresql" and order_by not in _GUEST_ORDERS:
        statement = _page_by_keys(host, query, matches, counted)
    else:
        statement = page_statement(rows, counted, order, PAGE_LIMIT, PAGE_OFFSET)
    _FREQUENT[shape] = rows, counted, statement
    return rows, counted, statement


# Orders by a column of the guest organization, not of the connection.
_GUEST_ORDERS = {schemas.GuestConnectionOrder.GUEST_NAME, schemas.GuestConnectionOrder.GUEST_EMAIL}


def _page_by_keys(
    host: BindParameter, query: schemas.GuestConnectionQuery, matches: CTE | None, counted: Select
) -> Select:
    """Return page_statement's page, found by the order's index alone, then read by key.

    PostgreSQL: the page's keys come from an index-only walk of the order's index (host,
    column, guest), which holds all a walk tests (the matches test the guest id), instead of
    reading each walked connection's row (~1 400 for 51 matches); only the page's rows are then
    read. The same rows in the same order: the same conditions, order, limit and offset.
    """
    order = _list_order(query)
    keys = (
        select(GuestConnection.guest_organization_id, order.column.label("sort_value"))
        .where(*_list_conditions(host, query, matches))
        .order_by(*order.order_by())
        .limit(PAGE_LIMIT)
        .offset(PAGE_OFFSET)
        .subquery("page_keys")
    )
    keyed = SortKey(
        order.field,
        keys.c.sort_value,
        order.direction,
        order.tie_field,
        keys.c.guest_organization_id,
        never_empty=order.never_empty,
    )
    return (
        _guest_connection_select()
        .join(
            keys,
            and_(
                GuestConnection.host_organization_id == host,
                GuestConnection.guest_organization_id == keys.c.guest_organization_id,
            ),
        )
        .order_by(*keyed.order_by())
        .add_columns(counted.correlate(None).scalar_subquery().label("total_items"))
    )


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
        .where(*_list_conditions(host_id, query, _host_matches(host_id, query)))
        .order_by(*_list_order(query).order_by())
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


_EVERY_STATUS = set(ConnectionStatus)


# Per guest connection: its host, its guest, and the texts its host's list searches (on
# PostgreSQL, 0010 and 0011, a table of the lower-cased texts with trigram indexes; on SQLite,
# 0009, the rows of an FTS5 trigram index of the same name that also holds the owner e-mail).
# Search data only: what a list shows comes by join.
_SEARCHED = table(
    "guest_connection_search",
    column("host_organization_id", Uuid),
    column("guest_organization_id", Uuid),
    column("guest_name_lower"),  # PostgreSQL: lower(the guest's name)
    column("guest_email_lower"),  # PostgreSQL: lower(the guest's e-mail)
)
_SEARCHED_ROWS = table(  # SQLite: the FTS5 table's content, by its rowid (search_id)
    "guest_connection_search_rows",
    column("search_id"),
    column("host_organization_id", Uuid),
    column("guest_organization_id", Uuid),
)
_SEARCHED_COLUMNS = {
    schemas.GuestConnectionSearchField.GUEST_NAME: "guest_name",
    schemas.GuestConnectionSearchField.GUEST_EMAIL: "guest_email",
    schemas.GuestConnectionSearchField.OWNER_EMAIL: "owner_email",
}


def _host_matches(host_id: uuid.UUID, query: schemas.GuestConnectionQuery) -> CTE | None:
    """Return the guest ids of the host's connections the search finds, or None if no search.

    The same matches as contains_text on the guest's or the connection's column, read from
    rows that carry the host, so that neither other hosts' matches nor the host's other
    connections are visited. Materialized: a statement that counts the matches and pages
    them reads them once. None for texts shorter than a trigram (no index serves them; the
    list then filters with contains_text).
    """
    text = query.search_text
    if not text or len(text) < TRIGRAM:
        return None
    return _matches_of(host_id, query.search_field, _search_value(query.search_field, text))


def _search_value(field: schemas.GuestConnectionSearchField, text: str) -> str:
    """Return what _matches_of compares with to find text: an FTS5 query, or a LIKE pattern."""
    if db.engine.dialect.name == "sqlite":
        return sqlite_trigram_query(_SEARCHED_COLUMNS[field], text)
    return substring_pattern(text)


def _matches_of(
    host_id: uuid.UUID | BindParameter,
    field: schemas.GuestConnectionSearchField,
    search: str | BindParameter,
) -> CTE:
    """Return _host_matches for a search value (_search_value's, or a parameter bound to it)."""
    column = _SEARCHED_COLUMNS[field]
    if db.engine.dialect.name == "sqlite":
        # The index gives row ids; their rows are read by integer key (FTS5's own column
        # reads cost ~4 times as much).
        found = select(literal_column("rowid")).where(literal_column(_SEARCHED.name).match(search))
        matches = select(_SEARCHED_ROWS.c.guest_organization_id).where(
            _SEARCHED_ROWS.c.search_id.in_(found.select_from(_SEARCHED)),
            _SEARCHED_ROWS.c.host_organization_id == host_id,
        )
    elif column == "owner_email":  # the connection's own column, with its own trigram index
        matches = select(GuestConnection.guest_organization_id).where(
            GuestConnection.host_organization_id == host_id,
            like_pattern(func.lower(GuestConnection.owner_email), search),
        )
    else:  # the texts are stored lower-cased (0011): no lower() to compute on each match
        matches = select(_SEARCHED.c.guest_organization_id).where(
            _SEARCHED.c.host_organization_id == host_id,
            like_pattern(_SEARCHED.c[f"{column}_lower"], search),
        )
    return matches.cte("host_matches").prefix_with("MATERIALIZED")


def _needs_guest(query: schemas.GuestConnectionQuery, matches: CTE | None = None) -> bool:
    """Tell whether the filters read the guest organization's columns."""
    searches_guest = matches is None and query.search_field in (
        schemas.GuestConnectionSearchField.GUEST_NAME,
        schemas.GuestConnectionSearchField.GUEST_EMAIL,
    )
    return bool(query.search_text and searches_guest) or query.parent_organization_id is not None


def _list_conditions(
    host_id: uuid.UUID, query: schemas.GuestConnectionQuery, matches: CTE | None = None
) -> list:
    conditions = [GuestConnection.host_organization_id == host_id]
    if query.search_text:
        if matches is None:
            column = _SEARCH_COLUMNS[query.search_field]
            conditions.append(contains_text(column, query.search_text))
        else:  # tested on the connection's own index, without reading the guest
            found = GuestConnection.guest_organization_id.in_(
                select(matches.c.guest_organization_id)
            )
            # IS TRUE (the same rows: neither side is ever NULL) keeps PostgreSQL from turning
            # the IN into a join it would probe once per walked row; it tests a hash of the
            # matches instead, as SQLite does.
            conditions.append(found.is_(True))
    return conditions + _filters(query)


def _filters(query: schemas.GuestConnectionQuery) -> list:
    """Return the conditions of the query's filters other than the host and the search."""
    conditions = []
    if set(query.statuses) != _EVERY_STATUS:
        # Every connection has one of them (NOT NULL and CHECK): asking for all is no filter,
        # and leaving it out lets a count or a page read the host's indexes alone.
        conditions.append(GuestConnection.status.in_(query.statuses))
    if query.archived is not None:
        conditions.append(GuestConnection.archived.is_(query.archived))
    if query.parent_organization_id is not None:
        conditions.append(effective_parent_id == query.parent_organization_id)
    conditions.extend(changed_since(GuestConnection.updated_at, query))
    if query.min_score is not None:
        conditions.append(GuestConnection.total_score >= query.min_score)
    if query.max_score is not None:
        conditions.append(GuestConnection.total_score <= query.max_score)
    if query.has_open_action is not None:
        conditions.append(
            GuestConnection.active_action_type.is_not(None)
            if query.has_open_action
            else GuestConnection.active_action_type.is_(None)
        )
    if query.score_older_than_days is not None:
        cutoff = utcnow() - timedelta(days=query.score_older_than_days)
        conditions.append(GuestConnection.score_updated_at < cutoff)
    return conditions


# Columns that are never empty: no NULLS LAST for them, so that PostgreSQL can read an index
# backwards for the descending order (it does not take DESC NULLS LAST for plain DESC).
# owner_email may be empty since migration 0005, which adds its DESC NULLS LAST index.
_NEVER_EMPTY = {
    schemas.GuestConnectionOrder.GUEST_NAME,
    schemas.GuestConnectionOrder.CREATED_AT,
    schemas.GuestConnectionOrder.UPDATED_AT,
}


def _list_order(query: schemas.GuestConnectionQuery) -> SortKey:
    """Return the order; each is exactly the order of one index (see migration 0002)."""
    return SortKey(
        query.order_by.value,
        _ORDER_COLUMNS[query.order_by],
        query.order_dir,
        "guest_organization_id",
        GuestConnection.guest_organization_id,
        never_empty=query.order_by in _NEVER_EMPTY,
    )


# The counters' own filters: "scores older than this" and "low scores" (the Low band, < 40).
STALE_SCORE_DAYS = 90
LOW_SCORE_MAX = 39.99


@dataclass(frozen=True)
class GuestCounts:
    """How many guest connections a host has, by status and archive state, and how many need
    attention: an open action, a score older than STALE_SCORE_DAYS, a score in the Low band."""

    total: int = 0
    connected: int = 0
    disconnected: int = 0
    archived: int = 0
    open_action: int = 0
    stale_score: int = 0
    low_score: int = 0


def count_guest_connections(host_id: uuid.UUID) -> GuestCounts:
    """Return the host's guest connection counts (one grouped query)."""
    cutoff = utcnow() - timedelta(days=STALE_SCORE_DAYS)

    def number_of(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        db.select(
            GuestConnection.status,
            GuestConnection.archived,
            func.count(),
            number_of(GuestConnection.active_action_type.is_not(None)),
            number_of(GuestConnection.score_updated_at < cutoff),
            number_of(GuestConnection.total_score <= LOW_SCORE_MAX),
        )
        .where(GuestConnection.host_organization_id == host_id)
        .group_by(GuestConnection.status, GuestConnection.archived)
    ).all()
    counts = dict.fromkeys(
        (
            "total",
            "connected",
            "disconnected",
            "archived",
            "open_action",
            "stale_score",
            "low_score",
        ),
        0,
    )
    for status, archived, number, open_action, stale_score, low_score in rows:
        counts["total"] += number
        counts[ConnectionStatus(status).value] += number
        if archived:
            counts["archived"] += number
        counts["open_action"] += open_action or 0
        counts["stale_score"] += stale_score or 0
        counts["low_score"] += low_score or 0
    return GuestCounts(**counts)


@dataclass(frozen=True)
class GuestSummary:
    guest_organization_id: uuid.UUID
    guest_name: str


@dataclass(frozen=True)
class ParentAtHost:
    """A parent organization as the host sees it: is it a guest too, and its other guests here."""

    parent_is_guest: bool
    subsidiaries: tuple[GuestSummary, ...]
    more_subsidiaries: bool  # there are more than listed


# Built once: the detail page runs it on every view, and building it cost more than running it.
# The host's connections whose guest is the parent, or whose parent (as shown, by the one rule)
# is the parent, except the guest being viewed; the parent itself first.
# Run on the driver's cursor (HotSelect): the detail page then reads without an ORM session.
_PARENT_AT_HOST = HotSelect(
    db.select(GuestConnection.guest_organization_id, Guest.name)
    .join(Guest, Guest.id == GuestConnection.guest_organization_id)
    .where(
        GuestConnection.host_organization_id == bindparam("host_id"),
        GuestConnection.guest_organization_id != bindparam("guest_id"),
        (effective_parent_id == bindparam("parent_id"))
        | (GuestConnection.guest_organization_id == bindparam("parent_id")),
    )
    .order_by(
        (GuestConnection.guest_organization_id == bindparam("parent_id")).desc(),
        Guest.name,
        GuestConnection.guest_organization_id,
    )
    .limit(bindparam("limit"))
)


def parent_at_host(
    host_id: uuid.UUID, parent_id: uuid.UUID, guest_id: uuid.UUID, limit: int = 20
) -> ParentAtHost:
    """Return whether the parent is also the host's guest, and its other subsidiaries there."""
    rows = _PARENT_AT_HOST.all(
        # The parent itself, and one more than shown tells "there are more".
        host_id=host_id,
        guest_id=guest_id,
        parent_id=parent_id,
        limit=limit + 2,
    )
    parent_is_guest = bool(rows) and rows[0][0] == parent_id
    others = [GuestSummary(row[0], row[1]) for row in rows if row[0] != parent_id]
    return ParentAtHost(parent_is_guest, tuple(others[:limit]), len(others) > limit)


def knows_organization(host_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
    """Tell whether the host already knows the organization: itself, one of its guests, or the
    parent shown on one of its connections (the host's record, else the guest's own)."""
    if organization_id == host_id:
        return True
    known = db.session.scalar(
        db.select(GuestConnection.guest_organization_id)
        .join(Guest, Guest.id == GuestConnection.guest_organization_id)
        .where(
            GuestConnection.host_organization_id == host_id,
            (GuestConnection.guest_organization_id == organization_id)
            | (effective_parent_id == organization_id),
        )
        .limit(1)
    )
    return known is not None


def set_archived(
    host_id: uuid.UUID, guest_id: uuid.UUID, archived: bool, *, actor: Actor
) -> schemas.GuestConnection:
    """Archive or unarchive the host's connection with a guest; repeating it changes nothing."""
    connection = _connection_for_update(host_id, guest_id)
    if _change_archived(connection, archived, actor=actor):
        db.session.commit()
    return get_guest_connection(host_id, guest_id)


def _change_archived(connection: GuestConnection, archived: bool, *, actor: Actor) -> bool:
    """Archive or unarchive a connection locked for update, with its audit event (no commit);
    return whether it changed."""
    if connection.archived == archived:
        return False
    now = utcnow()
    before = (connection.archived, connection.archived_at)
    connection.archived = archived
    connection.archived_at = now if archived else None
    connection.updated_at = now
    audit.record(
        connection.host_organization_id,
        actor,
        AuditAction.GUEST_CONNECTION_ARCHIVED
        if archived
        else AuditAction.GUEST_CONNECTION_UNARCHIVED,
        Subject.guest_connection(connection.guest_organization_id),
        {
            "archived": (before[0], connection.archived),
            "archived_at": (before[1], connection.archived_at),
        },
    )
    host_id, guest_id = connection.host_organization_id, connection.guest_organization_id
    webhooks.emit(
        host_id,
        WebhookEventType.GUEST_CONNECTION_ARCHIVED
        if archived
        else WebhookEventType.GUEST_CONNECTION_UNARCHIVED,
        lambda: get_guest_connection(host_id, guest_id),
    )
    return True


# -- asking a guest for analytics -----------------------------------------------------------------


class RequestAlreadyActive(Conflict):
    code = "analytics_request_already_active"
    message = "An analytics request to this guest is already open; wait for its result."


class GuestDisconnected(Conflict):
    code = "guest_connection_disconnected"
    message = "The guest has disconnected from this host; it cannot be asked for analytics."


def open_request(connection: GuestConnection, *, actor: Actor) -> ConnectionAction:
    """Add an analytics request on a connection locked for update (the caller commits); raise
    GuestDisconnected or RequestAlreadyActive when it cannot be asked."""
    host_id, guest_id = connection.host_organization_id, connection.guest_organization_id
    if connection.status != ConnectionStatus.CONNECTED:
        raise GuestDisconnected()
    if connection.active_action_type is not None or _open_request_exists(host_id, guest_id):
        raise RequestAlreadyActive()
    now = utcnow()
    action = ConnectionAction(
        host_organization_id=host_id,
        guest_organization_id=guest_id,
        action_type=ActionType.ANALYTICS_REQUEST,
        status=ActionStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    db.session.add(action)
    connection.active_action_type = ActionType.ANALYTICS_REQUEST
    connection.active_action_updated_at = now
    connection.updated_at = now
    audit.record(
        host_id,
        actor,
        AuditAction.ANALYTICS_REQUESTED,
        Subject.guest_connection(guest_id),
        {"active_action_type": (None, ActionType.ANALYTICS_REQUEST)},
    )
    db.session.flush()  # the action's id, and the one-open-request index, before the event
    webhooks.emit(
        host_id,
        WebhookEventType.ANALYTICS_REQUEST_CREATED,
        lambda: schemas.ConnectionAction.model_validate(action),
    )
    return action


def _open_request_exists(host_id: uuid.UUID, guest_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            db.select(ConnectionAction.id).where(
                ConnectionAction.host_organization_id == host_id,
                ConnectionAction.guest_organization_id == guest_id,
                ConnectionAction.action_type == ActionType.ANALYTICS_REQUEST,
                ConnectionAction.status == ActionStatus.ACTIVE,
            )
        )
        is not None
    )


# -- many guests at once ------------------------------------------------------------------------


class AlreadyArchived(Conflict):
    code = "already_archived"
    message = "Already archived."


class NotArchived(Conflict):
    code = "not_archived"
    message = "Not archived."


class TooManyToChange(ValidationFailed):
    """More guests match a filter than one bulk action takes."""


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk action would touch: how many of the host's guests, and the first names."""

    count: int
    names: list[str]
    guest_ids: list[uuid.UUID]


PREVIEW_NAMES = 10


def preview_bulk(
    host_id: uuid.UUID,
    guest_ids: list[uuid.UUID] | None = None,
    query: schemas.GuestConnectionQuery | None = None,
) -> BulkPreview:
    """Return the host's guests among guest_ids, or those matching query (at most
    MAX_BULK_GUESTS, else TooManyToChange): how many, and the first names in the list's order."""
    if query is not None:
        guest_ids = _matching_ids(host_id, query)
    wanted = list(dict.fromkeys(guest_ids or []))
    rows = db.session.execute(
        db.select(GuestConnection.guest_organization_id, Guest.name)
        .join(Guest, Guest.id == GuestConnection.guest_organization_id)
        .where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id.in_(wanted),
        )
    ).all()
    names = dict(rows)
    found = [guest_id for guest_id in wanted if guest_id in names]
    return BulkPreview(len(found), [names[g] for g in found[:PREVIEW_NAMES]], found)


def _matching_ids(host_id: uuid.UUID, query: schemas.GuestConnectionQuery) -> list[uuid.UUID]:
    """Return the guests matching the query's filters, in its order (all pages)."""
    ids = list(
        db.session.scalars(
            db.select(GuestConnection.guest_organization_id)
            .join(Guest, Guest.id == GuestConnection.guest_organization_id)
            .where(*_list_conditions(host_id, query, _host_matches(host_id, query)))
            .order_by(*_list_order(query).order_by())
            .limit(schemas.MAX_BULK_GUESTS + 1)
        )
    )
    if len(ids) > schemas.MAX_BULK_GUESTS:
        raise TooManyToChange.at(
            ["query"],
            f"More than {schemas.MAX_BULK_GUESTS} guests match: narrow the filters, "
            f"an action takes at most {schemas.MAX_BULK_GUESTS} at once.",
        )
    return ids


def bulk_change(
    host_id: uuid.UUID,
    action: schemas.GuestConnectionBulkAction,
    guest_ids: list[uuid.UUID] | None = None,
    *,
    query: schemas.GuestConnectionQuery | None = None,
    actor: Actor,
) -> schemas.GuestConnectionBulkResult:
    """Archive, unarchive or ask analytics of many guests (guest_ids, or those matching query)
    in one transaction, one audit event per guest changed; the others are skipped, with why."""
    if query is not None:
        guest_ids = _matching_ids(host_id, query)
    wanted = list(dict.fromkeys(guest_ids or []))
    if not 1 <= len(wanted) <= schemas.MAX_BULK_GUESTS:
        raise ValidationFailed.at(
            ["body", "guest_organization_ids"],
            f"Give 1 to {schemas.MAX_BULK_GUESTS} guests.",
        )
    # Locked in one statement, in id order: two batches never wait for each other in a circle.
    connections = {
        connection.guest_organization_id: connection
        for connection in db.session.scalars(
            db.select(GuestConnection)
            .where(
                GuestConnection.host_organization_id == host_id,
                GuestConnection.guest_organization_id.in_(wanted),
            )
            .order_by(GuestConnection.guest_organization_id)
            .with_for_update()
        )
    }
    names = dict(
        db.session.execute(
            db.select(Organization.id, Organization.name).where(
                Organization.id.in_(list(connections))
            )
        ).all()
    )
    items = []
    for guest_id in wanted:
        connection = connections.get(guest_id)
        refusal: Conflict | NotFound | None = None
        if connection is None:
            refusal = GuestConnectionNotFound()
        elif action == schemas.GuestConnectionBulkAction.REQUEST_ANALYTICS:
            try:
                open_request(connection, actor=actor)
            except Conflict as error:
                refusal = error
        elif not _change_archived(
            connection, action == schemas.GuestConnectionBulkAction.ARCHIVE, actor=actor
        ):
            archive = action == schemas.GuestConnectionBulkAction.ARCHIVE
            refusal = AlreadyArchived() if archive else NotArchived()
        items.append(
            schemas.GuestConnectionBulkItem(
                guest_organization_id=guest_id,
                guest_name=names.get(guest_id),
                outcome=schemas.GuestConnectionBulkOutcome.SKIPPED
                if refusal
                else schemas.GuestConnectionBulkOutcome.DONE,
                code=refusal.code if refusal else None,
                message=refusal.message if refusal else None,
            )
        )
    db.session.commit()
    done = sum(item.outcome == schemas.GuestConnectionBulkOutcome.DONE for item in items)
    return schemas.GuestConnectionBulkResult(
        action=action, done=done, skipped=len(items) - done, items=items
    )


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


def _connection_for_update(
    host_id: uuid.UUID, guest_id: uuid.UUID, loc: list[str | int] | None = None
) -> GuestConnection:
    connection = lock_connection(host_id, guest_id)
    if connection is None:
        raise GuestConnectionNotFound(loc=loc or ["path", "guest_org_id"])
    return connection


def checked_score(value: float, loc: list[str | int]) -> float:
    """Return the total score when it is a number from 0 to 100, else raise ValidationFailed."""
    if not (math.isfinite(value) and 0 <= value <= schemas.MAX_SCORE):
        raise ValidationFailed.at(loc, "The total score must be a number from 0 to 100.")
    return value


def connect(
    host_id: uuid.UUID,
    guest_id: uuid.UUID,
    owner_email: str | None,
    *,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    total_score: float | None = None,
    parent_id: uuid.UUID | None = None,
    archived: bool = False,
    actor: Actor,
    reconnect: bool = False,
    commit: bool = True,
) -> GuestConnection:
    """Connect a guest to a host and return the connection: the one way a connection is made.

    A pair already connected is refused (AlreadyConnected); so is a disconnected one, unless
    reconnect is set (an accepted invitation brings a guest that had left back). Connecting
    closes the host's open invitations to the guest as `accepted_by_system`. With commit
    false the caller commits, together with its own changes.
    """
    for organization_id in (host_id, guest_id, parent_id):
        if organization_id is not None:
            get_organization(organization_id)
    if host_id == guest_id:
        raise ValidationFailed.at(["guest"], "An organization cannot be its own guest.")
    if total_score is not None:
        total_score = checked_score(total_score, ["score"])
    if owner_email is not None:
        owner_email = checked_email(owner_email, "owner_email")
    now = utcnow()
    connection = lock_connection(host_id, guest_id)
    if connection is None:
        connection, changes = _new_connection(
            host_id, guest_id, owner_email, status, total_score, parent_id, archived, now
        )
        action = AuditAction.GUEST_CONNECTION_CREATED
    elif reconnect and connection.status == ConnectionStatus.DISCONNECTED:
        changes = _reconnected(connection, parent_id, now)
        action = AuditAction.GUEST_CONNECTION_RECONNECTED
    else:
        db.session.rollback()
        raise AlreadyConnected()
    _flush(connection)
    if status == ConnectionStatus.CONNECTED:
        close_open_invitations(host_id, guest_id, now)
    audit.record(host_id, actor, action, Subject.guest_connection(guest_id), changes)
    webhooks.emit(
        host_id,
        WebhookEventType.GUEST_CONNECTION_CREATED
        if action == AuditAction.GUEST_CONNECTION_CREATED
        else WebhookEventType.GUEST_CONNECTION_STATUS_CHANGED,
        lambda: get_guest_connection(host_id, guest_id),
    )
    if commit:
        db.session.commit()
    return connection


def _new_connection(
    host_id: uuid.UUID,
    guest_id: uuid.UUID,
    owner_email: str | None,
    status: ConnectionStatus,
    total_score: float | None,
    parent_id: uuid.UUID | None,
    archived: bool,
    now: datetime,
) -> tuple[GuestConnection, dict[str, tuple]]:
    """Return a new connection (with its first score in the history) and its fields, set."""
    connection = GuestConnection(
        host_organization_id=host_id,
        guest_organization_id=guest_id,
        owner_email=owner_email,
        status=status,
        total_score=total_score,
        score_updated_at=now if total_score is not None else None,
        parent_organization_id=parent_id,
        archived=archived,
        archived_at=now if archived else None,
        created_at=now,
        updated_at=now,
    )
    if total_score is not None:
        db.session.add(
            ScoreChange(
                host_organization_id=host_id,
                guest_organization_id=guest_id,
                total_score=total_score,
                source=ScoreSource.CLI,
                model=OPERATOR_SCORE,
                changed_at=now,
            )
        )
    changes = {
        field: (None, getattr(connection, field))
        for field in ("status", "owner_email", "total_score", "parent_organization_id", "archived")
        if getattr(connection, field) is not None
    }
    return connection, changes


def _reconnected(
    connection: GuestConnection, parent_id: uuid.UUID | None, now: datetime
) -> dict[str, tuple]:
    """Connect a guest that had left again (keeping its record); return what changed."""
    changes: dict[str, tuple] = {"status": (connection.status, ConnectionStatus.CONNECTED)}
    connection.status = ConnectionStatus.CONNECTED
    connection.updated_at = now
    if parent_id is not None and parent_id != connection.parent_organization_id:
        changes["parent_organization_id"] = (connection.parent_organization_id, parent_id)
        connection.parent_organization_id = parent_id
    return changes


def _flush(connection: GuestConnection) -> None:
    """Write the connection now: of two requests connecting one pair, exactly one wins."""
    db.session.add(connection)
    try:
        # The flush meets the unique pair first: the score history and invitations refer to
        # the connection.
        db.session.flush()
    except IntegrityError:
        # Another request connected the same pair between our check and our insert.
        db.session.rollback()
        raise AlreadyConnected() from None


def close_open_invitations(host_id: uuid.UUID, guest_id: uuid.UUID, now: datetime) -> int:
    """Close the host's open invitations to the guest's e-mails (no commit); return how many.

    They become `accepted_by_system`: the guest got connected without their tokens.
    """
    emails = proven_emails_of(guest_id)  # a typed, unproven e-mail never closes one
    if not emails:
        return 0
    # Rows a concurrent acceptance holds are skipped: that acceptance settles them itself,
    # and waiting for it could deadlock.
    open_ids = (
        db.select(GuestInvitation.id)
        .where(
            GuestInvitation.host_organization_id == host_id,
            GuestInvitation.status == InvitationStatus.SENT,
            GuestInvitation.email.in_(emails),
        )
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(
        update(GuestInvitation)
        .where(GuestInvitation.id.in_(open_ids), GuestInvitation.status == InvitationStatus.SENT)
        .values(
            status=InvitationStatus.ACCEPTED_BY_SYSTEM,
            accepted_at=now,
            guest_organization_id=guest_id,
            updated_at=now,
        ),
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
            f"for questions, write to {connection.owner_email or host.email or host.name}."
        ),
        host_organization_id=host_id,
        guest_organization_id=guest_id,
        created_at=utcnow(),
    )
    db.session.add(message)
    audit.record(
        host_id,
        actor,
        AuditAction.DISCONNECTION_NOTIFIED,
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
