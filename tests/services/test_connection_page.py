"""The detail page's one statement reads what the three separate reads return."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app import schemas
from app.extensions import db
from app.models import AnalyticsRun, AnalyticsRunStatus, ScoreChange, ScoreSource
from app.services import analytics, audit, guest_connections
from app.services.audit import Actor, Subject
from app.services.connection_page import read_connection_page
from app.services.guest_connections import GuestConnectionNotFound


@pytest.fixture
def busy_connection(app, make_org, make_connection):
    """A connection with a parent, several audit events and scores with and without runs."""
    host, parent = make_org("Host Ltd"), make_org("Parent Group")
    guest = make_org("Guest Ltd", parent=parent)
    make_connection(host, guest, score=41.5)  # a first score (no run) and a 'connected' event
    make_connection(host, make_org("Other Guest"), score=10)  # not this connection's
    with app.app_context():
        for archived in (True, False, True):
            guest_connections.set_archived(host, guest, archived, actor=Actor.cli())
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        for number in range(3):
            run = AnalyticsRun(
                organization_id=guest,
                status=AnalyticsRunStatus.SUCCESS,
                total_score=60.0 + number,
                model="Altman Z″",
                model_value=2.5 + number,
                zone="grey",
                analyzed_on=moment + timedelta(days=number),
            )
            db.session.add(run)
            db.session.flush()
            db.session.add(
                ScoreChange(
                    host_organization_id=host,
                    guest_organization_id=guest,
                    total_score=60.0 + number,
                    source=ScoreSource.ANALYTICS,
                    model="Altman Z″",
                    run_id=run.id,
                    # Two of them at the same moment: the id decides, as in the separate read.
                    changed_at=moment + timedelta(days=min(number, 1)),
                )
            )
        db.session.commit()
    return host, guest


def test_one_statement_reads_what_the_three_reads_return(app, busy_connection):
    host, guest = busy_connection
    with app.app_context():
        for events_limit, scores_limit in ((50, 100), (2, 2), (1, 1)):
            page = read_connection_page(
                host, guest, events_limit=events_limit, scores_limit=scores_limit
            )
            assert page.connection == guest_connections.get_guest_connection(host, guest)
            events = audit.list_events(host, Subject.guest_connection(guest), limit=events_limit)
            assert [tuple(event) for event in page.history] == [tuple(e) for e in events]
            history = analytics.score_history(host, guest, schemas.Page(limit=scores_limit))
            assert page.scores == history.items
        page = read_connection_page(host, guest, events_limit=50, scores_limit=100)
        assert len(page.history) == 4 and len(page.scores) == 4
        assert page.history[-1].action == "guest_connection.created"  # oldest last
        assert sum(score.run is not None for score in page.scores) == 3
        assert page.connection.parent_organization_name == "Parent Group"
        db.session.remove()


def test_a_missing_connection_is_not_found(app, busy_connection):
    host, _ = busy_connection
    with app.app_context(), pytest.raises(GuestConnectionNotFound):
        read_connection_page(host, uuid.uuid4(), events_limit=50, scores_limit=100)
