"""Fixtures: one app per test session, an emptied database for every test, small factories.

The database is SQLite in a temporary folder, or PostgreSQL when TEST_DATABASE_URL is set.
Its schema is made by the migrations, so every run tests them too. Tests marked
`postgres_only` are skipped on SQLite.

Shared by every folder: the JSON API as an organization's system calls it (`api`), a signed-in
browser session (`signed_in`), the host and guest organizations most tests act as (`host`,
`guest`, their tokens, and `pair`, the two connected), and small helpers.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db, rate_limits
from app.models import ConnectionStatus, Role
from app.services import api_clients, guest_connections, members, organizations
from app.services.audit import Actor
from tests.oidc_provider import ProviderHandle, oidc_provider, relative  # noqa: F401

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-0123456789"
# A port of ours where no server runs: a database or Redis that is away.
NOTHING_LISTENS = 5599
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


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
    app.extensions.pop("active_api_clients", None)
    rate_limits.reset(app)


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
            guest_connections.connect(
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
            members.add_member(org, email, name, Role(role), actor=Actor.cli())

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


# A statement whose Altman Z″ is 4.348 (safe zone), so its score is 87.48:
# X1 = (400 - 200) / 1000, X2 = 300 / 1000, X3 = 150 / 1000, X4 = 500 / 500.
SAFE_STATEMENT = {
    "period_end": "2025-12-31",
    "currency": "EUR",
    "total_assets": "1000.00",
    "total_liabilities": "500.00",
    "current_assets": "400.00",
    "current_liabilities": "200.00",
    "retained_earnings": "300.00",
    "ebit": "150.00",
    "equity": "500.00",
}
SAFE_SCORE = 87.48


def statement_scoring(score: float) -> dict:
    """Return statement figures whose Altman Z″ maps to this score (0 < score < 100).

    Only EBIT varies: Z″ = 6.72 · EBIT / total assets, all other ratios 0 (X4 needs equity 0).
    """
    points = ((-1.9, 0.0), (1.1, 40.0), (2.6, 70.0), (5.6, 100.0))
    for (z0, s0), (z1, s1) in zip(points, points[1:], strict=False):
        if score <= s1:
            z = z0 + (z1 - z0) * (score - s0) / (s1 - s0)
            break
    return {
        **SAFE_STATEMENT,
        "total_assets": "1000000.00",
        "current_assets": "0.00",
        "current_liabilities": "0.00",
        "retained_earnings": "0.00",
        "equity": "0.00",
        "ebit": f"{z / 6.72 * 1000000:.2f}",
    }


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

    def invite(self, token: str, host: uuid.UUID, email: str = "guest@alder.example", **body):
        """POST an invitation as the host; return the response."""
        payload = {"email": email, "expired_at": in_days(7), **body}
        return self.call("POST", "/v1/guest-invitations", token=token, requester=host, json=payload)

    def accept(self, token: str, guest: uuid.UUID, host: uuid.UUID, invitation_token: str):
        """Accept an invitation as the guest; return the response."""
        return self.call(
            "POST",
            "/v1/host-connections",
            token=token,
            requester=guest,
            json={"host_organization_id": str(host), "invitation_token": invitation_token},
        )

    def resend(self, token: str, host: uuid.UUID, invitation_id: str, **body):
        """Resend an invitation as the host, with a new expiry if given; return the response."""
        return self.call(
            "POST",
            f"/v1/guest-invitations/{invitation_id}/resend",
            token=token,
            requester=host,
            json=body,
        )

    def set_invitation_archived(
        self, token: str, host: uuid.UUID, invitation_id: str, archived: bool
    ):
        """Archive (withdraw) or restore an invitation as the host; return the response."""
        return self.call(
            "PATCH",
            f"/v1/guest-invitations/{invitation_id}",
            token=token,
            requester=host,
            json={"archived": archived},
        )

    def request_analytics(self, token: str, host: uuid.UUID, guest: uuid.UUID):
        """Ask the guest to run analytics, as the host; return the response."""
        return self.call(
            "POST", f"/v1/organizations/{guest}/analytics/requests", token=token, requester=host
        )

    def add_statement(self, token: str, org: uuid.UUID, **figures):
        """Record a financial statement of the organization (SAFE_STATEMENT, with changes)."""
        return self.call(
            "POST",
            f"/v1/organizations/{org}/financial-statements",
            token=token,
            requester=org,
            json={**SAFE_STATEMENT, **figures},
        )

    def start_run(self, token: str, org: uuid.UUID, **kwargs):
        """Start an analytics run of the organization, with no body; return the response."""
        return self.call(
            "POST", f"/v1/organizations/{org}/analytics", token=token, requester=org, **kwargs
        )

    def score(self, token: str, org: uuid.UUID, **figures):
        """Add a statement, then run analytics on it; return the run's response."""
        added = self.add_statement(token, org, **figures)
        assert added.status_code == 201, added.json
        return self.start_run(token, org)

    def set_host_status(self, token: str, guest: uuid.UUID, host: uuid.UUID, status: str):
        """Connect to or disconnect from a host, as the guest; return the response."""
        return self.call(
            "PATCH",
            f"/v1/host-connections/{host}",
            token=token,
            requester=guest,
            json={"status": status},
        )


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


# -- signed-in browser sessions, through the real sign-in flow ------------------------------------


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """Return the CSRF token of the form on a page."""
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no form with a CSRF token on {path}"
    return match.group(1)


def start_sign_in(client: FlaskClient, next_path: str | None = None):
    """Press "Sign in" on our page; return the redirect to the provider."""
    data = {"csrf_token": csrf_token(client)}
    if next_path is not None:
        data["next"] = next_path
    response = client.post("/sign-in", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def sign_in_as(
    client: FlaskClient,
    provider: ProviderHandle,
    sub: str,
    claims: dict,
    next_path: str | None = None,
):
    """Go through the whole sign-in flow as this person; return our callback's response."""
    provider.set_person(sub, claims)
    to_provider = start_sign_in(client, next_path)
    back = provider.approve(to_provider.headers["Location"], sub)
    return client.get(relative(back))


@pytest.fixture
def signed_in(client: FlaskClient, oidc_provider: ProviderHandle, make_member):  # noqa: F811
    """Return a function that makes a member of an organization and signs them in."""

    def sign_in(
        org: uuid.UUID, email: str = "admin@host.example", role: str = "admin"
    ) -> FlaskClient:
        make_member(org, email, role=role)
        response = sign_in_as(
            client, oidc_provider, f"sub-{email}", {"email": email, "email_verified": True}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


# -- the organizations most tests act as ----------------------------------------------------------


@pytest.fixture
def host(make_org) -> uuid.UUID:
    """Northwind Supplies, the host organization."""
    return make_org("Northwind Supplies", "hello@northwind.example")


@pytest.fixture
def host_token(token_for, host) -> str:
    return token_for(host)


@pytest.fixture
def guest(make_org) -> uuid.UUID:
    """Alder Foods, a guest organization, not yet connected to the host."""
    return make_org("Alder Foods", "finance@alder.example")


@pytest.fixture
def guest_token(token_for, guest) -> str:
    return token_for(guest)


@pytest.fixture
def pair(host, guest, make_connection) -> tuple[uuid.UUID, uuid.UUID]:
    """The host and the guest, connected (owner sales@northwind.example, score 87.5)."""
    make_connection(host, guest, owner_email="sales@northwind.example", score=87.5)
    return host, guest


# -- small helpers -----------------------------------------------------------------------------


def in_days(days: float) -> str:
    """Return an RFC 3339 UTC timestamp this many days from now."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_codes(response) -> list[str]:
    return [item["code"] for item in response.json["detail"]]


def row_count(app: Flask, model) -> int:
    """Return how many rows the model's table holds."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def race(app: Flask, calls: list[Callable[[Api], object]]) -> list[tuple[int, dict]]:
    """Run each API call in its own thread with its own client, all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        api = Api(app.test_client())
        barrier.wait()
        response = call(api)
        results[index] = (response.status_code, response.json)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


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


@contextmanager
def failing_statement(app, starts_with: str):
    """Make the database 'fail' on the first statement starting with this text."""

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(starts_with):
            raise OperationalError(statement, parameters, ConnectionError("server closed"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


def json_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


# -- what leaves the building: a real SMTP server, a real webhook receiver, the worker ------------


@dataclass
class CaughtMail:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

    port: int
    messages: list

    def bodies(self) -> list[str]:
        return [message.get_content() for message in self.messages]


@pytest.fixture
def smtp_server(app: Flask, monkeypatch) -> Iterator[CaughtMail]:
    """Start a real SMTP server and point the app's sender at it."""
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    caught = CaughtMail(port=0, messages=[])

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            caught.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        caught.port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=caught.port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", caught.port)
    yield caught
    controller.stop()


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records each request, answers the next queued status."""

    url: str
    requests: list  # (headers as a dict, body as bytes)
    statuses: list  # answered in turn; 200 once empty
    delay: float = 0.0

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver(app: Flask, monkeypatch) -> Iterator[Receiver]:
    """Start a webhook receiver on loopback, and allow the app to send there (tests only)."""
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = Receiver(url="", requests=[], statuses=[])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = state.statuses.pop(0) if state.statuses else 200
            time.sleep(state.delay)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"x" * 3000 if status >= 500 else b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def run_worker(app: Flask) -> Callable:
    """Return a function that runs one worker pass, optionally as if it were later."""
    from app.services import outbox

    def run(later: timedelta = timedelta(0)):
        with app.app_context():
            return outbox.deliver_due(now=lambda: datetime.now(UTC) + later)

    return run
