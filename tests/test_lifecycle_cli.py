"""The lifecycle's flask commands: inviting from the command line, and sending the outbox."""

from __future__ import annotations

import json
import uuid

import pytest

from app.extensions import db
from app.models import (
    ActionStatus,
    ConnectionAction,
    GuestConnection,
    GuestInvitation,
    OutboxMessage,
    ScoreChange,
    utcnow,
)


@pytest.fixture
def cli(runner):
    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


def test_invitations_create_prints_the_token_once(cli, app, make_org):
    """Does the command print a working link and keep only the token's hash?"""
    host = make_org("Host", "host@host.example")

    result = cli("invitations", "create", "--host", str(host), "--email", "Guest@X.example")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["status"] == "sent"
    assert printed["invitation_url"].endswith(f"?token={printed['invitation_token']}")
    with app.app_context():
        stored = db.session.get(GuestInvitation, uuid.UUID(printed["id"]))
        assert stored.email == "guest@x.example"
        assert printed["invitation_token"] not in stored.token_hash


@pytest.mark.parametrize(
    "extra",
    [
        ["--email", "nope"],
        ["--email", "a@b.example", "--days", "0"],
        ["--email", "a@b.example", "--parent", "x"],
        ["--email", "a@b.example", "--owner-email", "o"],
    ],
)
def test_invitations_create_refuses_bad_input_in_one_line(cli, app, make_org, extra):
    host = make_org("Host", "host@host.example")
    result = cli("invitations", "create", "--host", str(host), *extra)
    assert result.exit_code != 0
    assert result.stdout == ""
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(GuestInvitation)) == 0


def queue_message(app, org) -> None:
    with app.app_context():
        db.session.add(
            OutboxMessage(
                kind="disconnection_notification",
                recipient_email="finance@alder.example",
                subject="Northwind noticed",
                body="Hello.",
                host_organization_id=org,
                created_at=utcnow(),
            )
        )
        db.session.commit()


def test_the_outbox_sender_is_off_by_default(cli, app, make_org):
    queue_message(app, make_org("Host"))
    result = cli("outbox", "send")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: SMTP_HOST is not set: 1 message(s) wait in the outbox."
    )


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout):
        self.address = (host, port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        FakeSMTP.sent.append((self.address, message["To"], message["Subject"]))


def test_the_outbox_sender_delivers_and_marks_sent(cli, app, make_org, monkeypatch):
    """With SMTP_HOST set, is each waiting message sent once and marked sent?"""
    queue_message(app, make_org("Host"))
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example")
    monkeypatch.setattr("app.outbox.smtplib.SMTP", FakeSMTP)
    FakeSMTP.sent = []

    first = cli("outbox", "send")
    second = cli("outbox", "send")

    assert json.loads(first.stdout) == {"sent": 1, "waiting": 0}
    assert json.loads(second.stdout) == {"sent": 0, "waiting": 0}
    assert FakeSMTP.sent == [(("mail.example", 25), "finance@alder.example", "Northwind noticed")]


def test_the_demo_has_score_histories_and_open_requests_that_match(cli, app):
    """Does every demo score end its history, and every shown request exist as an action?"""
    assert cli("seed-demo").exit_code == 0
    with app.app_context():
        history_rows = db.session.scalar(db.select(db.func.count()).select_from(ScoreChange))
        for connection in db.session.scalars(db.select(GuestConnection)):
            latest = db.session.scalar(
                db.select(ScoreChange.total_score)
                .where(
                    ScoreChange.host_organization_id == connection.host_organization_id,
                    ScoreChange.guest_organization_id == connection.guest_organization_id,
                )
                .order_by(ScoreChange.changed_at.desc())
                .limit(1)
            )
            assert latest == connection.total_score
            open_action = db.session.scalar(
                db.select(ConnectionAction.id).where(
                    ConnectionAction.host_organization_id == connection.host_organization_id,
                    ConnectionAction.guest_organization_id == connection.guest_organization_id,
                    ConnectionAction.status == ActionStatus.ACTIVE,
                )
            )
            assert (open_action is not None) == (connection.active_action_type is not None)
    assert cli("seed-demo").exit_code == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ScoreChange)) == (
            history_rows
        )
