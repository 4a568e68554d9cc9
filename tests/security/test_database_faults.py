"""The database goes away: 503 service_unavailable, no stack trace, and recovery without restart."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.services import organizations
from tests import conftest
from tests.tcp_proxy import TcpProxy, free_port

LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "OperationalError", "SELECT")


def build_app(tmp_path, database_url: str) -> Flask:
    app = create_app(conftest.test_config(tmp_path, DATABASE_URL=database_url))

    @app.get("/pages-probe")
    def pages_probe():  # stands in for a dashboard page: any page that reads the database
        organizations.get_organization(uuid.uuid4())
        return "unreachable"

    return app


def dispose(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()


def postgres_url(port: int) -> str:
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(host="127.0.0.1", port=port)
    return url.render_as_string(hide_password=False)


@pytest.fixture(
    params=[
        "sqlite-unopenable",
        pytest.param("postgres-refused", marks=pytest.mark.postgres_only),
    ]
)
def down_app(request, tmp_path) -> Iterator[Flask]:
    """An app whose database cannot be reached at all."""
    if request.param == "sqlite-unopenable":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'app.db'}"
    else:
        url = postgres_url(conftest.NOTHING_LISTENS)
    app = build_app(tmp_path, url)
    yield app
    dispose(app)


def assert_unavailable_json(response) -> None:
    assert response.status_code == 503
    (detail,) = response.json["detail"]
    assert detail["code"] == "service_unavailable" and detail["loc"] == []
    assert response.mimetype == "application/json"
    body = response.get_data(as_text=True)
    assert not any(leak in body for leak in LEAKS), body


def test_readyz_says_not_ready_while_healthz_says_alive(down_app):
    """Can an orchestrator tell 'process alive' from 'ready to serve'?"""
    client = down_app.test_client()
    assert client.get("/healthz").status_code == 200
    assert_unavailable_json(client.get("/readyz"))


def test_token_endpoint_answers_503(down_app):
    """Does a client asking for a token learn to retry later, not see a crash?"""
    response = down_app.test_client().post(
        "/oauth2/token", json={"client_id": "gc_x", "client_secret": "s"}
    )
    assert_unavailable_json(response)


def test_api_answers_503_while_checking_the_token(down_app, token_for, make_org):
    """Is a valid token met with 503 when the keys to check it cannot be read?"""
    host = make_org("Host")
    token = token_for(host)  # issued by the healthy app
    response = down_app.test_client().get(
        f"/v1/guest-connections/{uuid.uuid4()}",
        headers={
            "Authorization": f"Bearer {token}",
            "Requester-Organization-ID": str(host),
            "Target-Organization-ID": str(host),
        },
    )
    assert_unavailable_json(response)


def test_pages_show_a_friendly_503(down_app):
    """Does a person get a readable page, with no technical detail, when the database is down?"""
    response = down_app.test_client().get("/pages-probe")

    assert response.status_code == 503
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "unavailable" in page.lower()
    assert not any(leak in page for leak in LEAKS), page


def test_the_failure_is_logged_without_the_query(down_app, caplog):
    """Is the outage logged for operators, once, without a stack trace or SQL?"""
    with caplog.at_level(logging.ERROR):
        down_app.test_client().post("/oauth2/token", json={"client_id": "a", "client_secret": "b"})
    messages = [record.getMessage() for record in caplog.records]
    assert any("database unavailable" in message for message in messages), messages
    assert all(record.exc_info is None for record in caplog.records)
    assert not any("SELECT" in message for message in messages)


def test_sqlite_recovers_without_restart(tmp_path):
    """When the database file becomes reachable, does the same app serve again?"""
    folder = tmp_path / "later"
    app = build_app(tmp_path, f"sqlite:///{folder / 'app.db'}")
    client = app.test_client()
    try:
        assert client.get("/readyz").status_code == 503
        folder.mkdir()
        conftest.reset_schema(app)
        assert client.get("/readyz").status_code == 200
    finally:
        dispose(app)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    upstream = make_url(os.environ["TEST_DATABASE_URL"])
    # A free port, not a fixed one: several suites may run on one machine at once.
    tcp_proxy = TcpProxy(free_port(), (upstream.host or "127.0.0.1", upstream.port or 5432))
    tcp_proxy.start()
    yield tcp_proxy
    tcp_proxy.stop()


@pytest.mark.postgres_only
def test_postgres_outage_and_recovery_without_restart(
    tmp_path, proxy, make_org, make_client, make_connection
):
    """Cut the app off PostgreSQL mid-life: 503s, then success again once it is back?"""
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest)
    credentials = make_client(host).__dict__
    # A client this app server has not read yet: its token request needs the database.
    other_credentials = make_client(host).__dict__
    app = build_app(tmp_path, postgres_url(proxy.listen_port))
    client = app.test_client()
    try:
        token = client.post("/oauth2/token", json=credentials).json["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Requester-Organization-ID": str(host),
            "Target-Organization-ID": str(host),
        }
        path = f"/v1/guest-connections/{guest}"
        assert client.get(path, headers=headers).status_code == 200

        proxy.stop()
        # The signing keys and the API client are remembered: the read of the connection fails.
        during_api = client.get(path, headers=headers)
        during_ready = client.get("/readyz")
        during_token = client.post("/oauth2/token", json=other_credentials)

        proxy.start()
        after_api = client.get(path, headers=headers)
        after_ready = client.get("/readyz")
    finally:
        dispose(app)

    assert_unavailable_json(during_api)
    assert_unavailable_json(during_ready)
    assert_unavailable_json(during_token)
    assert after_api.status_code == 200
    assert after_api.json["guest_organization_id"] == str(guest)
    assert after_ready.status_code == 200
