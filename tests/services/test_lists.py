"""What every list shares: the substring search, on both databases the same way."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text, update

from app import schemas
from app.extensions import db
from app.models import GuestConnection, Organization
from app.services import guest_connections


def names_found(app, host, search_text: str, field: str = "guest_name") -> list[str]:
    with app.app_context():
        query = schemas.GuestConnectionQuery(search_field=field, search_text=search_text)
        page = guest_connections.list_guest_connections(host, query)
    return [item.guest_name for item in page.items]


@pytest.fixture
def host_with_maple(app, make_org, make_connection):
    host = make_org("Host")
    for name in ("Maple Foods", "Ünïcödé Maple GmbH", "Oak Trading"):
        make_connection(host, make_org(name, f"finance@{name.split()[0].lower()}.example"))
    return host


def test_a_renamed_guest_is_found_by_its_new_name_only(app, host_with_maple):
    """After a guest's name changes, does the search follow it (and forget the old one)?"""
    with app.app_context():
        db.session.execute(
            update(Organization).where(Organization.name == "Oak Trading").values(name="Birch AB")
        )
        db.session.commit()

    assert names_found(app, host_with_maple, "birch") == ["Birch AB"]
    assert names_found(app, host_with_maple, "oak tr") == []


def test_a_changed_owner_email_is_found_by_its_new_value_only(app, host_with_maple):
    """Does the owner e-mail search follow a change of the connection's owner?"""
    with app.app_context():
        db.session.execute(update(GuestConnection).values(owner_email="credit@host.example"))
        db.session.commit()

    assert len(names_found(app, host_with_maple, "credit@", field="owner_email")) == 3
    assert names_found(app, host_with_maple, "owner@", field="owner_email") == []


@pytest.mark.parametrize(
    ("search_text", "expected"),
    [
        ("maple", ["Maple Foods", "Ünïcödé Maple GmbH"]),  # indexed on SQLite (3+ characters)
        ("ÜNÏ", ["Ünïcödé Maple GmbH"]),  # case folded beyond ASCII
        ("k t", ["Oak Trading"]),  # 3 characters, with a space
        ("oa", ["Oak Trading"]),  # shorter than a trigram: the scan
    ],
)
def test_search_is_a_case_insensitive_substring_however_long(
    app, host_with_maple, search_text, expected
):
    """Is a search the same case-insensitive substring match, short or long?"""
    assert names_found(app, host_with_maple, search_text) == expected


def test_sqlite_finds_a_search_through_its_trigram_table(app, host_with_maple):
    """On SQLite, does a search of 3+ characters read the host's trigram rows, not every row?"""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only: PostgreSQL uses its pg_trgm indexes (tested beside)")
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith(("SELECT", "WITH")):
            rows = cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            plans.append("\n".join(row[-1] for row in rows))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", explain)
        try:
            guest_connections.list_guest_connections(
                host_with_maple, schemas.GuestConnectionQuery(search_text="maple")
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", explain)
        # One row per connection, beside one per organization (the host and its 3 guests).
        searched = text("SELECT count(*) FROM guest_connection_search")
        assert db.session.execute(searched).scalar() == 3
        assert db.session.execute(text("SELECT count(*) FROM organization_search")).scalar() == 4
    assert plans and all("SCAN guest_connection_search VIRTUAL TABLE" in p for p in plans), plans


@pytest.mark.parametrize("field", ["guest_name", "guest_email", "owner_email"])
def test_every_search_field_follows_connections_and_organizations(
    app, host_with_maple, make_org, make_connection, field
):
    """Does each searched field find a new connection, and forget a removed one or guest?"""
    other_host = make_org("Other Host")
    guest = make_org("Cedar Goods", "billing@cedar.example")
    make_connection(host_with_maple, guest, owner_email="cedar.owner@host.example")
    make_connection(other_host, make_org("Cedar Twin", "billing@cedar.example"))
    searched = {"guest_name": "cedar", "guest_email": "@cedar.", "owner_email": "cedar.own"}[field]

    assert names_found(app, host_with_maple, searched, field=field) == ["Cedar Goods"]
    with app.app_context():
        db.session.execute(
            update(Organization)
            .where(Organization.id == guest)
            .values(name="Larch Goods", email="billing@larch.example")
        )
        db.session.commit()
    expected = ["Larch Goods"] if field == "owner_email" else []
    assert names_found(app, host_with_maple, searched, field=field) == expected
    with app.app_context():
        db.session.execute(
            GuestConnection.__table__.delete().where(GuestConnection.guest_organization_id == guest)
        )
        db.session.commit()
        if db.engine.dialect.name == "sqlite":  # the FTS5 index still matches its rows
            db.session.execute(
                text(
                    "INSERT INTO guest_connection_search (guest_connection_search, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )
    assert names_found(app, host_with_maple, searched, field=field) == []


def test_a_page_and_its_count_are_one_statement(app, host_with_maple, count_queries):
    """Does a page carry its exact count, read in the same statement as its rows?"""
    query = schemas.GuestConnectionQuery(search_text="maple", limit=1)
    with count_queries() as statements, app.app_context():
        page = guest_connections.list_guest_connections(host_with_maple, query)
    assert (len(page.items), page.total_items) == (1, 2)
    assert len(statements) == 1, statements


@pytest.mark.parametrize(
    ("search_text", "matches"),
    [
        ("maple", 2),
        ("ÜNÏ", 1),
        ("100%", 1),
        ("0%", 1),
        ("a_b", 1),
        ("k\\s", 1),
        ("%", 1),
        ("zz", 0),
    ],
)
def test_a_page_past_the_last_match_still_counts_every_match(
    app, host_with_maple, make_org, make_connection, search_text, matches
):
    """Past the last match, is the total still exact, whatever the search text holds?"""
    make_connection(host_with_maple, make_org("Back\\slash 100% Data_Base", "x@data.example"))
    make_connection(host_with_maple, make_org("Dataxbase 1000", "y@data.example"))
    with app.app_context():
        first = guest_connections.list_guest_connections(
            host_with_maple, schemas.GuestConnectionQuery(search_text=search_text)
        )
        beyond = guest_connections.list_guest_connections(
            host_with_maple, schemas.GuestConnectionQuery(search_text=search_text, offset=5)
        )
    assert beyond.items == []
    assert beyond.total_items == first.total_items == len(first.items) == matches


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["Maple Foods", "Maple Gone", "Maple Shelved", "Ünïcödé Maple GmbH"]),
        ({"archived": False}, ["Maple Foods", "Maple Gone", "Ünïcödé Maple GmbH"]),
        ({"archived": True}, ["Maple Shelved"]),
        ({"statuses": ["disconnected"]}, ["Maple Gone"]),
        ({"statuses": ["connected"], "archived": False}, ["Maple Foods", "Ünïcödé Maple GmbH"]),
    ],
)
def test_a_search_with_other_filters_counts_only_what_they_keep(
    app, host_with_maple, make_org, make_connection, filters, expected
):
    """Does a search combined with other filters page and count exactly what both keep?"""
    make_connection(host_with_maple, make_org("Maple Shelved"), archived=True)
    make_connection(host_with_maple, make_org("Maple Gone"), status="disconnected")
    make_connection(make_org("Another Host"), make_org("Maple Elsewhere"))
    query = schemas.GuestConnectionQuery(search_text="maple", order_by="guest_name", **filters)
    with app.app_context():
        page = guest_connections.list_guest_connections(host_with_maple, query)
    assert [item.guest_name for item in page.items] == expected
    assert page.total_items == len(expected)
