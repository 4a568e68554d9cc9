"""What a guest connection's detail page reads, in one round trip: the connection, its recent
audit events and its recent scores.

The three reads are those of guest_connections.get_guest_connection(), audit.list_events()
for the connection, and the first page of analytics.score_history(), sent as one UNION ALL
statement (tests hold the results equal to theirs): each branch keeps its own filter, order
and limit (as a subquery), and fills the other branches' columns with typed NULLs. A page view
was five statements; each round trip costs its execution in Python (HotSelect's, on the
driver's cursor) and, on PostgreSQL, the driver's and the server's work (~150 µs), more than
sorting the rows apart here.
"""

from __future__ import annotations

import json
import uuid
from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, cast, literal_column, null, select, union_all

from app import schemas
from app.database import HotSelect
from app.models import AnalyticsRun, AuditEvent, ScoreChange
from app.services.analytics import RUN_FIELD_NAMES, score_change_of
from app.services.audit import Subject
from app.services.guest_connections import ONE_GUEST_CONNECTION, GuestConnectionNotFound

_CONNECTION, _EVENT, _SCORE = 0, 1, 2

_CONNECTION_COLUMNS = list(ONE_GUEST_CONNECTION.selected_columns)
_EVENT_COLUMNS = list(AuditEvent.__table__.columns)
_SCORE_COLUMNS = [
    ScoreChange.id,
    ScoreChange.total_score,
    ScoreChange.source,
    ScoreChange.model,
    ScoreChange.run_id,
    ScoreChange.changed_at,
]
_RUN_COLUMNS = [AnalyticsRun.__table__.c[name] for name in RUN_FIELD_NAMES]


# An audit event as audit.list_events() returns it: the fields of an AuditEvent, by name.
AuditEventRow = namedtuple("AuditEventRow", [column.key for column in _EVENT_COLUMNS])  # noqa: PYI024


@dataclass(frozen=True)
class ConnectionPage:
    connection: schemas.GuestConnection
    history: list[AuditEventRow]  # newest first
    scores: list[schemas.ScoreChange]  # newest first
    rows: tuple[tuple, ...]  # what the three are made of: the key of the page's rendering


def _nulls(columns, prefix: str) -> list:
    return [cast(null(), column.type).label(f"{prefix}{column.key}") for column in columns]


def _labelled(columns, prefix: str) -> list:
    return [column.label(f"{prefix}{column.key}") for column in columns]


def _branch(kind: int, connection: list, event: list, score: list, run: list):
    return [literal_column(str(kind), Integer).label("kind"), *connection, *event, *score, *run]


def _build():
    connection_nulls = _nulls(_CONNECTION_COLUMNS, "c__")
    event_nulls = _nulls(_EVENT_COLUMNS, "e__")
    score_nulls = _nulls(_SCORE_COLUMNS, "s__")
    run_nulls = _nulls(_RUN_COLUMNS, "r__")
    connection = ONE_GUEST_CONNECTION.with_only_columns(
        *_branch(
            _CONNECTION,
            _labelled(_CONNECTION_COLUMNS, "c__"),
            event_nulls,
            score_nulls,
            run_nulls,
        )
    )
    events = (
        select(*_labelled(_EVENT_COLUMNS, "e__"))
        .where(
            AuditEvent.organization_id == bindparam("host_id"),
            AuditEvent.subject_type == bindparam("subject_type"),
            AuditEvent.subject_id == bindparam("subject_id"),
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(bindparam("events_limit"))
        .subquery("events")
    )
    scores = (
        select(*_labelled(_SCORE_COLUMNS, "s__"), *_labelled(_RUN_COLUMNS, "r__"))
        .outerjoin(AnalyticsRun, AnalyticsRun.id == ScoreChange.run_id)
        .where(
            ScoreChange.host_organization_id == bindparam("host_id"),
            ScoreChange.guest_organization_id == bindparam("guest_id"),
        )
        .order_by(ScoreChange.changed_at.desc(), ScoreChange.id.desc())
        .limit(bindparam("scores_limit"))
        .subquery("scores")
    )
    event_branch = select(
        *_branch(
            _EVENT,
            connection_nulls,
            [events.c[f"e__{column.key}"] for column in _EVENT_COLUMNS],
            score_nulls,
            run_nulls,
        )
    ).select_from(events)
    score_branch = select(
        *_branch(
            _SCORE,
            connection_nulls,
            event_nulls,
            [scores.c[f"s__{column.key}"] for column in _SCORE_COLUMNS],
            [scores.c[f"r__{column.key}"] for column in _RUN_COLUMNS],
        )
    ).select_from(scores)
    return union_all(connection, event_branch, score_branch)


# Built once and run on the driver's cursor: it runs on every view of the page.
_PAGE = HotSelect(_build())
_CONNECTION_NAMES = [column.key for column in _CONNECTION_COLUMNS]
_EVENT_FIELDS = AuditEventRow._fields
_SCORE_NAMES = [column.key for column in _SCORE_COLUMNS]
_CHANGES_AT = 1 + len(_CONNECTION_NAMES) + _EVENT_FIELDS.index("changes")  # in a row


def read_connection_page(
    host_id: uuid.UUID, guest_id: uuid.UUID, *, events_limit: int, scores_limit: int
) -> ConnectionPage:
    """Return the connection, its newest audit events and newest scores (one statement), or
    raise GuestConnectionNotFound."""
    subject = Subject.guest_connection(guest_id)
    rows = _PAGE.all(
        host_id=host_id,
        guest_id=guest_id,
        subject_type=subject.type,
        subject_id=subject.id,
        events_limit=events_limit,
        scores_limit=scores_limit,
    )
    connection = None
    events: list[AuditEventRow] = []
    scored: list[tuple] = []
    width_connection = len(_CONNECTION_NAMES)
    start_event = 1 + width_connection
    start_score = start_event + len(_EVENT_FIELDS)
    start_run = start_score + len(_SCORE_NAMES)
    for row in rows:
        kind = row[0]
        if kind == _CONNECTION:
            connection = dict(zip(_CONNECTION_NAMES, row[1:start_event], strict=True))
        elif kind == _EVENT:
            events.append(AuditEventRow(*row[start_event:start_score]))
        else:
            scored.append(row)
    if connection is None:
        raise GuestConnectionNotFound(loc=["path", "guest_org_id"])
    # Each branch is ordered in its subquery; UNION ALL promises no order, so sort here.
    events.sort(key=lambda event: (event.created_at, event.id), reverse=True)
    scored.sort(key=lambda row: (row[start_score + 5], row[start_score]), reverse=True)
    scores = [
        score_change_of(
            total_score=row[start_score + 1],
            source=row[start_score + 2],
            model=row[start_score + 3],
            run_id=row[start_score + 4],
            changed_at=row[start_score + 5],
            run_values=row[start_run:],
        )
        for row in scored
    ]
    return ConnectionPage(
        connection=schemas.GuestConnection.model_validate(connection),
        history=events,
        scores=scores,
        rows=tuple(map(_hashable, rows)),
    )


def _hashable(row: list) -> tuple:
    """Return the row as a tuple that can key a dict: an event's changes (JSON) as their text."""
    if row[0] == _EVENT:
        row = [*row]
        row[_CHANGES_AT] = json.dumps(row[_CHANGES_AT], sort_keys=True)
    return tuple(row)
