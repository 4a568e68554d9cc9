"""The analytics loop: a host asks a guest to run analytics; the guest's result becomes its score.

A request is a connection action (`analytics_request`, `active`) that shows on the connection as
`active_action_type`. The guest's result sets `total_score` on every connected connection,
keeps each value in the score history, and resolves the open requests.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy.exc import IntegrityError

from app import schemas
from app.errors import Conflict
from app.extensions import db
from app.models import (
    ActionStatus,
    ActionType,
    ConnectionAction,
    ConnectionStatus,
    GuestConnection,
    ScoreChange,
    ScoreSource,
    utcnow,
)
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject
from app.services.guest_connections import GuestConnectionNotFound, lock_connection
from app.services.lists import page, sort_order


class RequestAlreadyActive(Conflict):
    code = "analytics_request_already_active"
    message = "An analytics request to this guest is already open; wait for its result."


class GuestDisconnected(Conflict):
    code = "guest_connection_disconnected"
    message = "The guest has disconnected from this host; it cannot be asked for analytics."


def request_analytics(
    host_id: uuid.UUID, guest_id: uuid.UUID, *, actor: Actor
) -> schemas.ConnectionAction:
    """Open an analytics request from the host to a connected guest; return the action."""
    connection = lock_connection(host_id, guest_id)
    if connection is None:
        raise GuestConnectionNotFound(loc=["path", "org_id"])
    try:
        action = open_request(connection, actor=actor)
        db.session.commit()
    except Conflict as refusal:
        db.session.rollback()
        refusal.loc = ["path", "org_id"]
        raise
    except IntegrityError:
        # Another request won the race; the partial unique index let only one be open.
        db.session.rollback()
        raise RequestAlreadyActive(loc=["path", "org_id"]) from None
    return schemas.ConnectionAction.model_validate(action)


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


def submit_score(
    guest_id: uuid.UUID, total_score: float, *, actor: Actor
) -> schemas.AnalyticsResult:
    """Record the guest's analytics result on all its connected hosts; resolve their requests."""
    now = utcnow()
    previous_scores = dict(
        db.session.execute(
            db.select(GuestConnection.host_organization_id, GuestConnection.total_score)
            .where(
                GuestConnection.guest_organization_id == guest_id,
                GuestConnection.status == ConnectionStatus.CONNECTED,
            )
            .order_by(GuestConnection.host_organization_id)  # one lock order: no deadlocks
            .with_for_update()
        ).all()
    )
    host_ids = list(previous_scores)
    for host_id, previous in previous_scores.items():
        # In each host's trail: the score on its connection changed.
        audit.record(
            host_id,
            actor,
            AuditAction.SCORE_UPDATED,
            Subject.guest_connection(guest_id),
            {"total_score": (previous, total_score)},
        )
    if host_ids:
        db.session.execute(
            update(GuestConnection)
            .where(
                GuestConnection.guest_organization_id == guest_id,
                GuestConnection.host_organization_id.in_(host_ids),
            )
            .values(total_score=total_score, score_updated_at=now, updated_at=now),
            execution_options={"synchronize_session": False},
        )
        db.session.execute(
            insert(ScoreChange),
            [
                {
                    "id": uuid.uuid4(),
                    "host_organization_id": host_id,
                    "guest_organization_id": guest_id,
                    "total_score": total_score,
                    "source": ScoreSource.ANALYTICS,
                    "changed_at": now,
                }
                for host_id in host_ids
            ],
        )
    resolved = resolve_open_actions(guest_id, now)
    db.session.execute(
        update(GuestConnection)
        .where(
            GuestConnection.guest_organization_id == guest_id,
            GuestConnection.active_action_type == ActionType.ANALYTICS_REQUEST,
        )
        .values(active_action_type=None, active_action_updated_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return schemas.AnalyticsResult(
        organization_id=guest_id,
        total_score=total_score,
        status="success",
        connections_updated=len(host_ids),
        requests_resolved=resolved,
        created_at=now,
    )


_NEWEST_FIRST = sort_order(
    ScoreChange.changed_at, schemas.OrderDirection.DESC, ScoreChange.id, never_empty=True
)


def score_history(
    host_id: uuid.UUID, guest_id: uuid.UUID, query: schemas.Page
) -> schemas.ScoreHistory:
    """Return the values the score of the host's connection with a guest took, newest first."""
    exists = db.session.scalar(
        db.select(GuestConnection.id).where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id == guest_id,
        )
    )
    if exists is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    conditions = [
        ScoreChange.host_organization_id == host_id,
        ScoreChange.guest_organization_id == guest_id,
    ]
    total = db.session.scalar(db.select(func.count()).select_from(ScoreChange).where(*conditions))
    changes = db.session.scalars(
        page(db.select(ScoreChange).where(*conditions), _NEWEST_FIRST, query.limit, query.offset)
    ).all()
    items = [_score_change(change) for change in changes]
    return schemas.ScoreHistory(items=items, total_items=total or 0)


# Built once: the detail page runs it on every view, and building it cost more than running it.
_RECENT_SCORES = (
    db.select(ScoreChange)
    .where(
        ScoreChange.host_organization_id == bindparam("host_id"),
        ScoreChange.guest_organization_id == bindparam("guest_id"),
    )
    .order_by(*_NEWEST_FIRST)
    .limit(bindparam("limit"))
)


def recent_scores(
    host_id: uuid.UUID, guest_id: uuid.UUID, limit: int = 100
) -> list[schemas.ScoreChange]:
    """Return the latest values of the connection's score, newest first, in one query."""
    changes = db.session.scalars(
        _RECENT_SCORES, {"host_id": host_id, "guest_id": guest_id, "limit": limit}
    ).all()
    return [_score_change(change) for change in changes]


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


def _score_change(change: ScoreChange) -> schemas.ScoreChange:
    return schemas.ScoreChange(
        total_score=change.total_score, source=change.source.value, changed_at=change.changed_at
    )
