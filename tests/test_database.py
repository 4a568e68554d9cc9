import os

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests import conftest

on_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (TEST_DATABASE_URL): SQLite has no server to close connections",
)


@on_postgresql
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


@on_postgresql
def test_a_write_after_a_read_only_request_runs_in_a_transaction_again(
    app, api, token_for, make_org, make_connection
):
    """Does the connection a GET used without a transaction get its transactions back?"""
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest)
    response = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host)
    assert response.status_code == 200

    with app.app_context():
        db.session.remove()
        pooled = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
        autocommit = [connection.driver_connection.autocommit for connection in pooled]
        for connection in pooled:
            connection.close()

    assert autocommit and not any(autocommit)
