"""The analytics loop: a host asks a guest to run analytics; the guest's runs make its score.

A request is a connection action (`analytics_request`, `active`) that shows on the connection as
`active_action_type`. A run scores the guest's latest financial statement with the configured
scorer (app/services/scoring.py); a successful one sets `total_score` on every connected
connection, keeps each value with its run in the score history, and resolves the open requests.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError

from app import schemas
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    ActionStatus,
    ActionType,
    AnalyticsRun,
    AnalyticsRunStatus,
    ConnectionAction,
    ConnectionStatus,
    GuestConnection,
    ScoreChange,
    ScoreSource,
    utcnow,
)
from app.schemas import WebhookEventType
from app.services import audit, scoring, webhooks
from app.services.audit import Actor, AuditAction, Subject
from app.services.financial_statements import latest_statement, list_statements
from app.services.guest_connections import (
    GuestConnectionNotFound,
    RequestAlreadyActive,
    get_guest_connection,
    lock_connection,
    open_request,
)
from app.services.lists import SortKey, one_page, page, sort_order

logger = logging.getLogger(__name__)


class AnalyticsRunNotFound(NotFound):
    code = "analytics_run_not_found"
    message = "This organization has no analytics run with that id."


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


def start_run(organization_id: uuid.UUID, *, actor: Actor) -> schemas.AnalyticsRun:
    """Score the organization's latest statement with the configured scorer; return the run.

    The run is saved `in_progress`, then `processing` (each committed, so that a run that
    never finishes still shows how far it got), then `success` or `failed`. Success changes,
    in one transaction: the score on every connection in which the organization is a connected
    guest, their score history (with this run and its model), the open analytics requests
    (resolved), and the run. Failure changes only the run, which keeps the error.
    """
    statement = latest_statement(organization_id)
    if statement is None:
        raise ValidationFailed.at(
            [], "There is no financial statement to score: add one, then start the run."
        )
    now = utcnow()
    run = AnalyticsRun(
        organization_id=organization_id,
        status=AnalyticsRunStatus.IN_PROGRESS,
        statement_id=statement.id,
        statement_period_end=statement.period_end,
        created_at=now,
        updated_at=now,
    )
    db.session.add(run)
    db.session.flush()
    audit.record(
        organization_id,
        actor,
        AuditAction.ANALYTICS_RUN_STARTED,
        Subject.analytics_run(run.id),
        {"status": (None, run.status), "statement_period_end": (None, str(statement.period_end))},
    )
    figures = schemas.FinancialStatement.model_validate(statement)
    db.session.commit()

    run.status = AnalyticsRunStatus.PROCESSING
    run.processing_at = run.updated_at = utcnow()
    db.session.commit()

    name = current_app.config.get("SCORER") or scoring.DEFAULT_SCORER
    try:
        result = scoring.checked(scoring.load_scorer(name)(figures), name)
    except scoring.ScoringError as error:
        return _fail(run, str(error), actor)
    except Exception as error:  # any bug of a scorer fails its run, never the request
        logger.exception("scorer %s failed on run %s", name, run.id)
        return _fail(run, f"The scorer {name!r} failed ({type(error).__name__}).", actor)
    return _succeed(run, result, actor)


def _fail(run: AnalyticsRun, error: str, actor: Actor) -> schemas.AnalyticsRun:
    """Mark the run failed with its error; the connections keep their scores."""
    db.session.rollback()  # whatever the scorer may have left in the session
    run.status = AnalyticsRunStatus.FAILED
    run.error = error[:500]
    run.updated_at = utcnow()
    audit.record(
        run.organization_id,
        actor,
        AuditAction.ANALYTICS_RUN_FAILED,
        Subject.analytics_run(run.id),
        {"status": (AnalyticsRunStatus.PROCESSING, run.status), "error": (None, run.error)},
    )
    db.session.commit()
    return schemas.AnalyticsRun.model_validate(run)


def _succeed(run: AnalyticsRun, result: scoring.Score, actor: Actor) -> schemas.AnalyticsRun:
    """Write the run's score to the guest's connections, history and requests; one commit."""
    guest_id = run.organization_id
    total_score = result.total_score
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
                    "run_id": run.id,
                    "model": result.model,
                    "changed_at": now,
                }
                for host_id in host_ids
            ],
        )
    resolve_open_actions(guest_id, now)
    db.session.execute(
        update(GuestConnection)
        .where(
            GuestConnection.guest_organization_id == guest_id,
            GuestConnection.active_action_type == ActionType.ANALYTICS_REQUEST,
        )
        .values(active_action_type=None, active_action_updated_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    run.status = AnalyticsRunStatus.SUCCESS
    run.total_score = total_score
    run.model = result.model
    run.model_value = result.model_value
    run.zone = result.zone
    run.analyzed_on = run.updated_at = now
    audit.record(
        guest_id,
        actor,
        AuditAction.ANALYTICS_RUN_SUCCEEDED,
        Subject.analytics_run(run.id),
        {
            "status": (AnalyticsRunStatus.PROCESSING, run.status),
            "total_score": (None, total_score),
            "model": (None, result.model),
        },
    )
    for host_id in host_ids:
        webhooks.emit(
            host_id,
            WebhookEventType.GUEST_CONNECTION_SCORE_CHANGED,
            lambda host_id=host_id: get_guest_connection(host_id, guest_id),
        )
    db.session.commit()
    return schemas.AnalyticsRun.model_validate(run)


_RUN_FIELDS = [
    getattr(AnalyticsRun, name)
    for name in schemas.AnalyticsRun.model_fields
    if hasattr(AnalyticsRun, name)
]
_RUNS_NEWEST_FIRST = SortKey(
    "created_at",
    AnalyticsRun.created_at,
    schemas.OrderDirection.DESC,
    "id",
    AnalyticsRun.id,
    never_empty=True,
)


def list_runs(
    organization_id: uuid.UUID, query: schemas.AnalyticsRunQuery
) -> schemas.AnalyticsRunList:
    """Return a page of the organization's analytics runs, newest first."""
    conditions = [
        AnalyticsRun.organization_id == organization_id,
        AnalyticsRun.status.in_(query.statuses),
    ]
    items, total, _ = one_page(
        db.select(*_RUN_FIELDS).where(*conditions),
        db.select(func.count()).select_from(AnalyticsRun).where(*conditions),
        _RUNS_NEWEST_FIRST,
        query,
        schemas.AnalyticsRun,
    )
    return schemas.AnalyticsRunList(items=items, total_items=total)


def get_run(organization_id: uuid.UUID, run_id: uuid.UUID) -> schemas.AnalyticsRun:
    """Return one analytics run of the organization, or raise AnalyticsRunNotFound."""
    run = db.session.scalar(
        db.select(AnalyticsRun).where(
            AnalyticsRun.id == run_id, AnalyticsRun.organization_id == organization_id
        )
    )
    if run is None:
        raise AnalyticsRunNotFound(loc=["path", "run_id"])
    return schemas.AnalyticsRun.model_validate(run)


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
    rows = db.session.execute(
        page(_WITH_RUNS.where(*conditions), _NEWEST_FIRST, query.limit, query.offset)
    ).all()
    items = [_score_change(change, run) for change, run in rows]
    return schemas.ScoreHistory(items=items, total_items=total or 0)


# Each value with the run that computed it (none for scores recorded otherwise).
_WITH_RUNS = db.select(ScoreChange, AnalyticsRun).outerjoin(
    AnalyticsRun, AnalyticsRun.id == ScoreChange.run_id
)
# The run's fields a score change shows (_RUN_FIELDS above), in order.
RUN_FIELD_NAMES = tuple(field.key for field in _RUN_FIELDS)


def score_change_of(
    *, total_score, source, model, run_id, changed_at, run_values
) -> schemas.ScoreChange:
    """Return the score change of a plain row: its columns, then its run's (RUN_FIELD_NAMES)."""
    run = None
    # The run's id is null when no run matched (the outer join's empty side).
    if run_id is not None and run_values[0] is not None:
        run = schemas.AnalyticsRun.model_validate(
            dict(zip(RUN_FIELD_NAMES, run_values, strict=True))
        )
    return schemas.ScoreChange(
        total_score=total_score,
        source=source.value,
        model=model,
        run_id=run_id,
        changed_at=changed_at,
        run=run,
    )


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
    resolved = db.session.execute(
        statement.values(status=ActionStatus.RESOLVED, resolved_at=now, updated_at=now).returning(
            ConnectionAction.id, ConnectionAction.host_organization_id
        ),
        execution_options={"synchronize_session": False},
    ).all()
    for action_id, action_host_id in resolved:
        webhooks.emit(
            action_host_id,
            WebhookEventType.ANALYTICS_REQUEST_RESOLVED,
            lambda action_id=action_id: schemas.ConnectionAction.model_validate(
                db.session.get(ConnectionAction, action_id, populate_existing=True)
            ),
        )
    return len(resolved)


def _score_change(change: ScoreChange, run: AnalyticsRun | None) -> schemas.ScoreChange:
    return score_change_of(
        total_score=change.total_score,
        source=change.source,
        model=change.model,
        run_id=change.run_id,
        changed_at=change.changed_at,
        run_values=tuple(getattr(run, name, None) for name in RUN_FIELD_NAMES),
    )


@dataclass(frozen=True)
class Overview:
    """What an organization's analytics page shows: its latest statements and its runs."""

    statements: schemas.FinancialStatementList
    runs: schemas.AnalyticsRunList
    open_requests: int  # hosts whose analytics request is open


def overview(organization_id: uuid.UUID, runs: schemas.AnalyticsRunQuery) -> Overview:
    """Return the organization's latest statements, a page of its runs, and its open requests."""
    return Overview(
        statements=list_statements(organization_id, schemas.Page(limit=5)),
        runs=list_runs(organization_id, runs),
        open_requests=db.session.scalar(
            db.select(func.count())
            .select_from(ConnectionAction)
            .where(
                ConnectionAction.guest_organization_id == organization_id,
                ConnectionAction.status == ActionStatus.ACTIVE,
            )
        )
        or 0,
    )
