"""Secrets are hashed or encrypted at rest, and never written to the logs."""

from __future__ import annotations

import hashlib
import logging

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import failing_statement


def every_stored_value(app) -> str:
    """Return every value of every table, as one text to search."""
    with app.app_context():
        values = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608
                values.extend(str(value) for value in row)
        return "\n".join(values)


def test_client_secrets_are_stored_only_as_hashes(app, make_org, make_client, token_for):
    """Could someone reading the database use a client secret? It is not there to read."""
    org = make_org()
    credentials = make_client(org)
    token = token_for(org)

    stored = every_stored_value(app)

    assert credentials.client_secret not in stored
    assert hashlib.sha256(credentials.client_secret.encode()).hexdigest() in stored
    assert token not in stored  # tokens are self-contained, never stored


def test_signing_keys_are_encrypted_at_rest(app, make_org, token_for):
    """Is the private signing key stored only encrypted, and the public part without d?"""
    token_for(make_org())
    with app.app_context():
        row = db.session.execute(text("SELECT public_jwk, private_key_encrypted FROM signing_keys"))
        public_jwk, private_encrypted = row.one()
    assert "PRIVATE KEY" not in private_encrypted
    assert '"d"' not in str(public_jwk) and "'d'" not in str(public_jwk)


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def logged_text(caplog) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_text:
            lines.append(record.exc_text)
    return "\n".join(lines)


def test_no_secret_or_token_reaches_the_logs(app, client, api, make_org, make_client, all_logs):
    """Across issuing, using and refusing tokens, is no secret or token ever logged?"""
    org = make_org()
    credentials = make_client(org)
    good = client.post("/oauth2/token", json=credentials.__dict__)
    token = good.json["access_token"]
    client.post(
        "/oauth2/token",
        json={"client_id": credentials.client_id, "client_secret": "wrong-" + "x" * 20},
    )
    client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + "Z2NfeDpzZWNyZXQtaW4tYmFzaWM="},
    )
    api.get(f"/v1/guest-connections/{org}", token=token, requester=org)
    api.get(f"/v1/guest-connections/{org}", token=token[:-4] + "AAAA", requester=org)
    api.get(f"/v1/guest-connections/{org}", token=token, requester="not-a-uuid")

    logged = logged_text(all_logs)
    for secret in (
        credentials.client_secret,
        "wrong-" + "x" * 20,
        "secret-in-basic",
        "Z2NfeDpzZWNyZXQtaW4tYmFzaWM=",
        token,
        token.split(".")[2],  # the signature alone
        app.config["SECRET_KEY"],
    ):
        assert secret not in logged


def test_database_errors_log_no_statement_parameters(app, client, make_org, make_client, all_logs):
    """When the database fails mid-request, are the query's parameters (secrets) kept out?"""
    credentials = make_client(make_org())
    with failing_statement(app, "SELECT API_CLIENTS"):
        response = client.post("/oauth2/token", json=credentials.__dict__)

    assert response.status_code == 503
    logged = logged_text(all_logs)
    assert "database unavailable" in logged
    assert credentials.client_id not in logged
    assert credentials.client_secret not in logged


def test_request_ids_cannot_forge_log_lines(app, client, all_logs, monkeypatch):
    """Can a caller inject text into our logs through X-Request-ID? Only safe characters pass."""
    monkeypatch.setitem(app.config, "TOKEN_RATE_LIMIT", "1 per minute")
    for request_id in ("first", "abc\u2028FAKE] admin signed in %s {}"):
        client.post(
            "/oauth2/token",
            json={"client_id": "x", "client_secret": "y"},
            headers={"X-Request-ID": request_id},
        )

    (warning,) = [r.getMessage() for r in all_logs.records if "rate limit" in r.getMessage()]
    assert "[request abcFAKEadminsignedins]" in warning


def test_invitation_tokens_are_stored_only_as_hashes(app, api, make_org, token_for, all_logs):
    """Could a reader of the database or the logs accept an invitation? The token is in neither."""
    host = make_org("Host", "hello@host.example")
    guest = make_org("Guest", "guest@alder.example")
    created = api.invite(token_for(host), host)
    invitation_token = created.json["invitation_token"]
    accepted = api.accept(token_for(guest), guest, host, invitation_token)

    assert created.status_code == 201 and accepted.status_code == 201
    assert invitation_token not in every_stored_value(app)
    assert invitation_token not in logged_text(all_logs)
