"""The database: pooled connections after a server restart, transactions, and the migrations."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import flask_migrate
import psycopg
import pytest
from sqlalchemy import bindparam, event, func, inspect, text, union_all, update

from app import create_app, schemas
from app.config import ConfigError
from app.database import HotSelect, ReadConnections
from app.extensions import db
from app.models import GuestConnection, Organization, ScoreChange, ScoreSource
from app.services import guest_connections
from tests import conftest


@pytest.mark.postgres_only  # SQLite has no server to close connections
def test_a_pooled_connection_the_server_closed_is_replaced_before_use(app, tmp_path):
    """Does a request still succeed when the server closed the idle connection in the pool?"""
    other = create_app(conftest.test_config(tmp_path, DATABASE_PING_IDLE_SECONDS=0))
    with other.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool, idle
    with app.app_context():  # as a server restart would
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.commit()

    response = other.test_client().get("/readyz")

    assert response.status_code == 200
    with other.app_context():
        db.engine.dispose()


@pytest.mark.postgres_only  # SQLite has no server to close connections
def test_a_write_after_a_read_only_request_runs_in_a_transaction_again(app, api, host_token, pair):
    """Does the connection a GET used without a transaction get its transactions back?"""
    host, guest = pair
    response = api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host)
    assert response.status_code == 200

    with app.app_context():
        db.session.remove()
        pooled = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
        autocommit = [connection.driver_connection.autocommit for connection in pooled]
        for connection in pooled:
            connection.close()

    assert autocommit and not any(autocommit)


@contextmanager
def transaction_states(app, statements_like: str = "") -> Iterator[list[bool]]:
    """Collect, for each statement run inside (containing statements_like), if in a transaction."""
    in_transaction: list[bool] = []

    def record(_connection, cursor, statement, *_arguments) -> None:
        if statements_like in statement:
            status = cursor.connection.info.transaction_status
            in_transaction.append(status != psycopg.pq.TransactionStatus.IDLE)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        yield in_transaction
    finally:
        event.remove(engine, "after_cursor_execute", record)


@pytest.mark.postgres_only  # SQLite has no round trips to save
def test_the_token_endpoint_reads_the_credentials_without_a_transaction(
    app, client, host, make_client
):
    """Does POST /oauth2/token read the client outside a transaction (its rare write has one)?"""
    credentials = make_client(host).__dict__
    with transaction_states(app, "SELECT api_clients.") as in_transaction:
        responses = [client.post("/oauth2/token", json=credentials) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert in_transaction and not any(in_transaction)


@pytest.mark.postgres_only  # SQLite has no round trips to save
@pytest.mark.parametrize("path", ["/v1/guest-connections/{guest}", "/v1/guest-connections"])
def test_api_reads_run_without_a_transaction(app, api, host_token, pair, path):
    """Does every statement of a JSON read run outside a transaction (no BEGIN, no ROLLBACK)?"""
    host, guest = pair
    with transaction_states(app) as in_transaction:
        response = api.get(path.format(guest=guest), token=host_token, requester=host)

    assert response.status_code == 200
    assert in_transaction and not any(in_transaction)


def test_migration_0002_goes_down_and_up_again(tmp_path):
    """Can 0002 be undone and redone on SQLite, ending with the audit table and indexes?"""
    app = create_app(
        {
            "APP_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'roundtrip.db'}",
            "SECRET_KEY": conftest.TEST_SECRET,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="0001")
        assert "audit_events" not in inspect(db.engine).get_table_names()
        flask_migrate.upgrade()
        inspector = inspect(db.engine)
        assert "audit_events" in inspector.get_table_names()
        indexes = {
            index["name"]: index["column_names"]
            for index in inspector.get_indexes("guest_connections")
        }
        assert indexes["ix_guest_connections_host_score"] == [
            "host_organization_id",
            "total_score",
            "guest_organization_id",
        ]
        db.engine.dispose()


def test_migration_0005_keeps_todays_scores_as_manual_history(tmp_path):
    """Do the scores typed before runs stay in the history, marked as such, and go down again?"""
    app = create_app(
        {
            "APP_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'scores.db'}",
            "SECRET_KEY": conftest.TEST_SECRET,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    host, with_history, without_history, unscored = (uuid.uuid4() for _ in range(4))
    then = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    at = "2026-05-01 12:00:00.000000"  # as SQLite keeps it
    with app.app_context():
        flask_migrate.upgrade(revision="0003")
        with db.engine.begin() as connection:
            for org, name in (
                (host, "Host"),
                (with_history, "Typed"),
                (without_history, "Imported"),
                (unscored, "New"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO organizations (id, name, created_at, updated_at)"
                        " VALUES (:id, :name, :at, :at)"
                    ),
                    {"id": org.hex, "name": name, "at": at},
                )
            for guest, score in ((with_history, 87.5), (without_history, 1000.0), (unscored, None)):
                connection.execute(
                    text(
                        "INSERT INTO guest_connections (id, host_organization_id,"
                        " guest_organization_id, status, owner_email, archived, total_score,"
                        " score_updated_at, created_at, updated_at) VALUES (:id, :host, :guest,"
                        " 'connected', 'o@host.example', 0, :score, :scored_at, :at, :at)"
                    ),
                    {
                        "id": uuid.uuid4().hex,
                        "host": host.hex,
                        "guest": guest.hex,
                        "score": score,
                        "scored_at": at if score is not None else None,
                        "at": at,
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO score_changes (id, host_organization_id, guest_organization_id,"
                    " total_score, source, changed_at) VALUES (:id, :host, :guest, 87.5,"
                    " 'analytics', :at)"
                ),
                {"id": uuid.uuid4().hex, "host": host.hex, "guest": with_history.hex, "at": at},
            )

        flask_migrate.upgrade()
        history = db.session.execute(
            db.select(
                ScoreChange.guest_organization_id,
                ScoreChange.total_score,
                ScoreChange.source,
                ScoreChange.model,
                ScoreChange.run_id,
                ScoreChange.changed_at,
            )
        ).all()
        db.session.remove()
        flask_migrate.downgrade(revision="0003")
        assert "analytics_runs" not in inspect(db.engine).get_table_names()
        flask_migrate.upgrade()
        kept = db.session.scalar(db.select(db.func.count()).select_from(ScoreChange))
        db.session.remove()
        db.engine.dispose()

    assert sorted(history) == sorted(
        [
            # 1000 was clamped to 100 by migration 0004, on the way to 0005.
            (with_history, 87.5, ScoreSource.ANALYTICS, "manual (before runs)", None, then),
            (without_history, 100.0, ScoreSource.CLI, "manual (before runs)", None, then),
        ]
    )
    assert kept == 2  # rebuilding guest_connections on SQLite deleted none of its children


@pytest.mark.postgres_only
def test_postgres_connections_carry_the_planner_settings(app):
    """Does every PostgreSQL connection plan for cheap random reads and no parallel workers?"""
    with app.app_context():
        assert db.session.execute(text("SHOW random_page_cost")).scalar() == "1.1"
        assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"


@pytest.mark.parametrize("settings", ["random_page_cost", "work_mem=8MB; DROP", "-c x=1"])
def test_malformed_postgres_settings_stop_the_start(tmp_path, settings):
    """Is a malformed POSTGRES_SETTINGS refused at start, with the setting's name?"""
    config = conftest.test_config(
        tmp_path,
        DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        POSTGRES_SETTINGS=settings,
    )
    with pytest.raises(ConfigError, match="POSTGRES_SETTINGS"):
        create_app(config)


def test_search_migrations_index_the_connections_already_there(tmp_path):
    """On SQLite, do 0009 and 0010 index existing connections, and go down and up again?"""
    app = create_app(
        {
            "APP_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'search.db'}",
            "SECRET_KEY": conftest.TEST_SECRET,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        flask_migrate.upgrade(revision="0008")
        host, guest = Organization(name="Host"), Organization(name="Ünïcödé Maple GmbH")
        db.session.add_all([host, guest])
        db.session.flush()
        db.session.add(
            GuestConnection(host_organization_id=host.id, guest_organization_id=guest.id)
        )
        db.session.commit()
        host_id = host.id
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="0008")
        flask_migrate.upgrade()
        query = schemas.GuestConnectionQuery(search_text="ünïcödé maple")
        found = guest_connections.list_guest_connections(host_id, query)
        assert [item.guest_name for item in found.items] == ["Ünïcödé Maple GmbH"]
        assert found.total_items == 1
        db.engine.dispose()


def test_a_hot_select_gives_the_values_sqlalchemy_core_gives(app, pair):
    """Do UUIDs, aware timestamps, booleans, numbers and nulls come back as Core reads them?"""
    host, guest = pair
    statement = db.select(
        GuestConnection.guest_organization_id,
        GuestConnection.archived,
        GuestConnection.created_at,
        GuestConnection.total_score,
        GuestConnection.archived_at,
        GuestConnection.status,
    ).where(GuestConnection.host_organization_id == bindparam("host_id"))
    hot = HotSelect(statement)
    with app.test_request_context():
        expected = dict(db.session.execute(statement, {"host_id": host}).one()._mapping)
        db.session.remove()

        row = hot.first(host_id=host)
        again = hot.first(host_id=host)  # the plan built by the first call

    assert row == again == expected
    assert row["guest_organization_id"] == guest
    assert row["created_at"].tzinfo is not None
    assert row["archived"] is False and row["archived_at"] is None
    with app.test_request_context():
        assert hot.first(host_id=uuid.uuid4()) is None


def test_a_hot_select_reads_every_row_as_core_does_with_a_name_bound_twice_and_a_limit(app, pair):
    """Do all()'s rows equal Core's for a UNION ALL binding host_id in both branches, each with
    a LIMIT (SQLite adds an OFFSET the statement binds itself)?"""
    host, guest = pair
    branch = (
        db.select(GuestConnection.guest_organization_id, GuestConnection.created_at)
        .where(GuestConnection.host_organization_id == bindparam("host_id"))
        .limit(bindparam("limit"))
        .subquery()
    )
    statement = union_all(db.select(branch), db.select(branch))
    parameters = {"host_id": host, "limit": 5}
    hot = HotSelect(statement)
    with app.test_request_context():
        expected = [list(row) for row in db.session.execute(statement, parameters)]
        db.session.remove()

        rows = hot.all(**parameters)

    assert rows == expected
    assert [row[0] for row in rows] == [guest, guest]
    assert rows[0][1].tzinfo is not None
    with app.test_request_context():
        assert hot.all(host_id=uuid.uuid4(), limit=5) == []


def owner_email_read() -> HotSelect:
    """A HotSelect of a connection's owner e-mail (binds host_id and guest_id)."""
    return HotSelect(
        db.select(GuestConnection.owner_email).where(
            GuestConnection.host_organization_id == bindparam("host_id"),
            GuestConnection.guest_organization_id == bindparam("guest_id"),
        )
    )


def set_owner_email(app, guest: uuid.UUID, owner_email: str) -> None:
    """Change the guest's connection and commit, as another request would."""
    with app.app_context():
        db.session.execute(
            update(GuestConnection)
            .where(GuestConnection.guest_organization_id == guest)
            .values(owner_email=owner_email)
        )
        db.session.commit()


def test_a_hot_select_sees_what_the_request_wrote_and_finds_nothing_when_nothing_matches(app, pair):
    """Inside a request that changed rows, does the read see the change, flushed or not?"""
    host, guest = pair
    hot = owner_email_read()
    with app.test_request_context():
        connection = db.session.scalar(
            db.select(GuestConnection).where(GuestConnection.guest_organization_id == guest)
        )
        connection.owner_email = "new.owner@northwind.example"  # not flushed yet

        assert hot.scalar(host_id=host, guest_id=guest) == "new.owner@northwind.example"
        assert hot.first(host_id=guest, guest_id=host) is None
        db.session.rollback()


def test_a_hot_select_is_counted_like_any_statement(app, pair, count_queries):
    """Do statement counters (the query bounds of the tests, the benchmark) see it?"""
    host, guest = pair
    hot = HotSelect(
        db.select(GuestConnection.id).where(GuestConnection.host_organization_id == bindparam("h"))
    )
    with app.test_request_context(), count_queries() as statements:
        hot.first(h=host)

    assert len(statements) == 1 and statements[0].startswith("SELECT")


def test_a_hot_select_renders_a_row_once_and_a_changed_row_again(app, pair):
    """Does first_rendered reuse a row's rendering until the row changes, and find nothing?"""
    host, guest = pair
    hot = owner_email_read()
    rendered_rows = []

    def render(row) -> bytes:
        rendered_rows.append(row)
        return row["owner_email"].encode()

    def read(host_id=host) -> bytes | None:
        with app.test_request_context():
            return hot.first_rendered(render, host_id=host_id, guest_id=guest)

    first, again = read(), read()
    set_owner_email(app, guest, "new.owner@northwind.example")
    changed, missing = read(), read(host_id=uuid.uuid4())

    assert first == again == b"sales@northwind.example"
    assert changed == b"new.owner@northwind.example"
    assert missing is None
    assert rendered_rows == [
        {"owner_email": "sales@northwind.example"},
        {"owner_email": "new.owner@northwind.example"},
    ]


def test_a_hot_select_outside_a_session_sees_each_commit_at_once(app, pair):
    """Does a read on a kept connection see what another connection committed just before?"""
    host, guest = pair
    hot = owner_email_read()
    seen = []
    for owner_email in ("first@northwind.example", "second@northwind.example"):
        set_owner_email(app, guest, owner_email)
        with app.test_request_context():
            seen.append(hot.scalar(host_id=host, guest_id=guest))

    assert seen == ["first@northwind.example", "second@northwind.example"]


def test_kept_read_connections_are_closed_on_dispose_but_a_parents_are_only_forgotten(app):
    """Does engine.dispose() close the idle read connections, except those a fork inherited?"""
    with app.app_context():
        readers = ReadConnections(db.engine, ping_idle_seconds=None)
        ours = readers.take()
        readers.put_back(ours)
        readers.discard_all()
        inherited = readers.take()
        readers.put_back(inherited)
        readers.pid = -1  # as in a child process: the connection is its parent's
        readers.discard_all()
        driver_error = db.engine.dialect.loaded_dbapi.Error

    assert readers.idle == []
    with pytest.raises(driver_error):
        ours.cursor().execute("SELECT 1")
    inherited.cursor().execute("SELECT 1")  # still open: only the parent may close it
    inherited.close()


@pytest.mark.postgres_only  # SQLite has no server to close connections
def test_a_kept_read_connection_the_server_closed_is_replaced_before_use(app, tmp_path):
    """Does a hot read still succeed when the server closed its idle connection?"""
    other = create_app(conftest.test_config(tmp_path, DATABASE_PING_IDLE_SECONDS=0))
    backend = HotSelect(db.select(func.pg_backend_pid().label("pid")))
    with other.test_request_context():
        pid = backend.scalar()
    with app.app_context():  # as a server restart would
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.commit()

    with other.test_request_context():
        new_pid = backend.scalar()

    assert new_pid != pid
    with other.app_context():
        db.engine.dispose()


@pytest.mark.postgres_only
def test_postgres_search_rows_go_down_to_0010_and_up_again(app, make_org, make_connection):
    """Does 0011 lower-case the rows already there, go down to 0010's texts and up again, and
    do its triggers write lower-cased texts?"""
    host = make_org("Host")
    guest = make_org("Ünïcödé MAPLE GmbH", "Finance@Maple.example")
    make_connection(host, guest)
    searched = text("SELECT guest_name_lower, guest_email_lower FROM guest_connection_search")
    with app.app_context():
        db.session.remove()  # nothing may hold the table while the migrations rebuild it
        flask_migrate.downgrade(revision="0010")
        try:
            shown = text("SELECT guest_name, guest_email FROM guest_connection_search")
            assert tuple(db.session.execute(shown).one()) == (
                "Ünïcödé MAPLE GmbH",
                "finance@maple.example",  # e-mails are kept lower-cased anyway
            )
        finally:
            db.session.remove()
            flask_migrate.upgrade()
        assert tuple(db.session.execute(searched).one()) == (
            "ünïcödé maple gmbh",
            "finance@maple.example",
        )
        db.session.execute(
            update(Organization).where(Organization.id == guest).values(name="Birch ÅB")
        )
        db.session.commit()
        assert db.session.execute(searched).one()[0] == "birch åb"
        found = guest_connections.list_guest_connections(
            host, schemas.GuestConnectionQuery(search_text="BIRCH å")
        )
        assert [item.guest_name for item in found.items] == ["Birch ÅB"]
        db.session.remove()
