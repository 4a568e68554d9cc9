"""Writes are all-or-nothing, and concurrent writers leave consistent rows (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func

from app.errors import Conflict
from app.extensions import db
from app.models import GuestConnection, SigningKey
from app.services import guest_connections
from app.services.audit import Actor
from tests.conftest import failing_statement


def key_states(app) -> list[tuple[str, bool]]:
    with app.app_context():
        rows = db.session.execute(db.select(SigningKey.kid, SigningKey.retired_at)).all()
        return sorted((kid, retired is not None) for kid, retired in rows)


def test_a_rotation_that_fails_midway_changes_nothing(app, runner, token_for, make_org):
    """If the new key cannot be stored, is the old one still the (unretired) signing key?"""
    token_for(make_org())  # creates the first key
    before = key_states(app)

    with failing_statement(app, "INSERT INTO SIGNING_KEYS"):
        result = runner.invoke(args=["keys", "rotate"])

    assert result.exit_code == 1
    assert result.output.startswith("Error: The database is unreachable; nothing was changed")
    assert "Traceback" not in result.output
    assert key_states(app) == before == [(before[0][0], False)]


def test_a_failed_write_during_a_request_is_rolled_back(app, client, make_org, make_client):
    """Does a request whose write fails leave the session clean for the next request?"""
    credentials = make_client(make_org()).__dict__
    with failing_statement(app, "UPDATE API_CLIENTS"):
        failed = client.post("/oauth2/token", json=credentials)
    retried = client.post("/oauth2/token", json=credentials)

    assert failed.status_code == 503
    assert retried.status_code == 200


def run_together(app, calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads, each with its own app context (its own connection), at once."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        with app.app_context():
            start.wait()
            try:
                results[index] = call()
            except Exception as error:  # collected and asserted on by the test
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres_only
def test_concurrent_archive_and_unarchive_end_consistent(app, make_org, make_connection):
    """Racing archive/unarchive: does the row end either archived with a time, or neither?"""
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest)
    calls = [
        (
            lambda archived=index % 2 == 0: guest_connections.set_archived(
                host, guest, archived, actor=Actor.cli()
            )
        )
        for index in range(8)
    ]

    results = run_together(app, calls)

    assert not [r for r in results if isinstance(r, Exception)], results
    with app.app_context():
        row = db.session.scalar(db.select(GuestConnection))
        assert row.archived == (row.archived_at is not None)
        shown = guest_connections.get_guest_connection(host, guest)
        assert shown.archived == row.archived


@pytest.mark.postgres_only
def test_concurrent_connects_of_one_pair_make_one_connection(app, make_org):
    """Racing accepts of the same guest: exactly one connection, the others a clean 409?"""
    host, guest = make_org("Host"), make_org("Guest")
    calls = [
        (lambda: guest_connections.connect(host, guest, "owner@host.example", actor=Actor.cli()))
        for _ in range(6)
    ]

    results = run_together(app, calls)

    conflicts = [r for r in results if isinstance(r, Conflict)]
    others = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not others, others
    assert len(conflicts) == 5
    assert all(error.code == "already_connected" for error in conflicts)
    with app.app_context():
        assert db.session.scalar(db.select(func.count()).select_from(GuestConnection)) == 1
