"""Guest connections as a service: archiving in one transaction, and lists the indexes serve."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, text

from app import schemas
from app.cli import demo_data
from app.extensions import db
from app.models import ActorKind, AuditEvent, GuestConnection
from app.services import audit, guest_connections

# -- archiving ------------------------------------------------------------------------------------


def test_archiving_is_one_transaction_with_its_audit_event(app, pair):
    """If the audit event cannot be written, is the connection left exactly as it was?"""
    host, guest = pair
    broken = audit.Actor(ActorKind.USER, "someone", "")  # violates the label's length check
    with app.app_context():
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            guest_connections.set_archived(host, guest, True, actor=broken)
        db.session.rollback()
        connection = db.session.scalar(
            db.select(GuestConnection).where(GuestConnection.guest_organization_id == guest)
        )
        assert connection.archived is False and connection.archived_at is None
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "guest_connection.archived")
            )
            == 0
        )


# -- the list's search and order use the indexes (PostgreSQL) -------------------------------------


TRIGRAM_INDEXES = [
    "ix_organizations_name_trgm",
    "ix_organizations_email_trgm",
    "ix_guest_connections_owner_email_trgm",
    "ix_guest_connection_search_guest_name_trgm",
    "ix_guest_connection_search_guest_email_trgm",
]


@pytest.fixture
def many_guests(app, make_org):
    """Return a host with 3000 generated guests, the statistics of the tables up to date."""
    host = make_org("Host")
    with app.app_context():
        demo_data.seed_scale(host, 3000)
        # As autovacuum would: move the new rows from GIN's pending list into the index proper.
        for index in TRIGRAM_INDEXES:
            db.session.execute(text(f"SELECT gin_clean_pending_list('{index}'::regclass)"))
        db.session.execute(text("ANALYZE organizations"))
        db.session.execute(text("ANALYZE guest_connections"))
        db.session.commit()
    return host


def explained_list(app, host: uuid.UUID, **query) -> str:
    """Run the list with these parameters and return the plan of its one SQL statement."""
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith(("SELECT", "WITH")):
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    with app.app_context():
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        event.listen(db.engine, "before_cursor_execute", explain)
        try:
            guest_connections.list_guest_connections(host, schemas.GuestConnectionQuery(**query))
        finally:
            event.remove(db.engine, "before_cursor_execute", explain)
            db.session.rollback()
    (plan,) = plans  # the count rides along with the page
    return plan


@pytest.mark.postgres_only
def test_substring_search_uses_the_trigram_indexes(app, many_guests):
    """Is the list's search written so that PostgreSQL's trigram indexes serve it?"""
    for field, text_, index in [
        ("guest_name", "ds 001234", "ix_guest_connection_search_guest_name_trgm"),
        ("guest_email", "finance1234@", "ix_guest_connection_search_guest_email_trgm"),
        ("owner_email", "owner7@", "ix_guest_connections_owner_email_trgm"),
    ]:
        plan = explained_list(app, many_guests, search_field=field, search_text=text_)
        assert f"Bitmap Index Scan on {index}" in plan, plan


@pytest.mark.postgres_only
def test_every_order_is_read_from_an_index_without_sorting(app, many_guests):
    """Does each order, either way, match an index exactly, so that a page needs no sort?"""
    for field in schemas.GuestConnectionOrder:
        for direction in schemas.OrderDirection:
            plan = explained_list(app, many_guests, order_by=field, order_dir=direction)
            assert "Sort" not in plan, (field, direction, plan)
