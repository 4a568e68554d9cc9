"""Fixtures: one app per test session, an emptied database for every test, small factories.

The database is SQLite in a temporary folder, or PostgreSQL when TEST_DATABASE_URL is set.
Its schema is made by the migrations, so every run tests them too.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from app import api_clients, connections, create_app, organizations
from app.audit import Actor
from app.extensions import db, limiter
from app.models import ConnectionStatus, Role

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-0123456789"


def database_url(tmp_dir) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir and tmp_dir / 'test.db'}"


def test_config(tmp_dir, **overrides) -> dict:
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url(tmp_dir),
        "SECRET_KEY": TEST_SECRET,
        "INSTANCE_PATH": str(tmp_dir / "instance"),
        # High enough never to slow a test; tests of the limits lower them.
        "TOKEN_RATE_LIMIT": "10000 per minute",
        "SIGNIN_RATE_LIMIT": "10000 per minute",
        **overrides,
    }


def pytest_collection_modifyitems(config, items) -> None:
    if database_url(None).startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def reset_schema(app: Flask) -> None:
    """Drop everything, then build the schema with the migrations."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade()


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Iterator[Flask]:
    application = create_app(test_config(tmp_path_factory.mktemp("app")))
    reset_schema(application)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_database(request) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
    app.extensions.pop("signing_key_cache", None)
    limiter.reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


# -- factories: small functions that return ids ----------------------------------------------------


@pytest.fixture
def make_org(app: Flask) -> Callable[..., uuid.UUID]:
    def make(
        name: str = "Acme Ltd", email: str | None = None, parent: uuid.UUID | None = None
    ) -> uuid.UUID:
        with app.app_context():
            return organizations.create_organization(name, email, parent, actor=Actor.cli()).id

    return make


@pytest.fixture
def make_connection(app: Flask) -> Callable[..., None]:
    def make(
        host: uuid.UUID,
        guest: uuid.UUID,
        owner_email: str = "owner@host.example",
        status: str = "connected",
        score: float | None = None,
        parent: uuid.UUID | None = None,
        archived: bool = False,
    ) -> None:
        with app.app_context():
            connections.add_guest_connection(
                host,
                guest,
                owner_email,
                status=ConnectionStatus(status),
                total_score=score,
                parent_id=parent,
                archived=archived,
                actor=Actor.cli(),
            )

    return make


@pytest.fixture
def make_member(app: Flask) -> Callable[..., None]:
    def make(org: uuid.UUID, email: str, role: str = "member", name: str | None = None) -> None:
        with app.app_context():
            organizations.add_member(org, email, name, Role(role), actor=Actor.cli())

    return make


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


@pytest.fixture
def make_client(app: Flask) -> Callable[..., Credentials]:
    def make(org: uuid.UUID, name: str = "ERP integration") -> Credentials:
        with app.app_context():
            api_client, secret = api_clients.create_api_client(org, name, actor=Actor.cli())
            return Credentials(api_client.client_id, secret)

    return make


@pytest.fixture
def token_for(client: FlaskClient, make_client) -> Callable[[uuid.UUID], str]:
    """Return a function giving a fresh access token for a new API client of an organization."""

    def token(org: uuid.UUID) -> str:
        credentials = make_client(org)
        response = client.post("/oauth2/token", json=credentials.__dict__)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["access_token"]

    return token


class Api:
    """Calls the JSON API as an organization's system would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        requester: uuid.UUID | str | None,
        target: uuid.UUID | str | None = None,
        **kwargs,
    ):
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if requester is not None:
            headers["Requester-Organization-ID"] = str(requester)
        target = requester if target is None else target
        if target is not None:
            headers["Target-Organization-ID"] = str(target)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


def error_codes(response) -> list[str]:
    return [item["code"] for item in response.json["detail"]]


@pytest.fixture
def count_queries(app: Flask) -> Callable:
    """Return a context manager that counts the SQL statements run inside it."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


def json_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])
