"""The flask commands: what they print, and how they refuse bad input without writing."""

from __future__ import annotations

import json
import uuid

import pytest

from app.extensions import db
from app.models import (
    ActionStatus,
    ActorKind,
    AnalyticsRun,
    ApiClient,
    ConnectionAction,
    FinancialStatement,
    GuestConnection,
    GuestInvitation,
    Membership,
    Organization,
    OutboxMessage,
    ScoreChange,
    User,
    utcnow,
)
from app.services import audit, guest_connections
from app.services.audit import Actor
from tests.conftest import json_line

TABLES = (Organization, User, Membership, ApiClient, GuestConnection)


@pytest.fixture
def row_counts(app):
    def counts() -> dict[str, int]:
        with app.app_context():
            return {
                model.__tablename__: db.session.scalar(
                    db.select(db.func.count()).select_from(model)
                )
                for model in TABLES
            }

    return counts


@pytest.fixture
def cli(runner):
    """Return a function that runs a flask command with these arguments."""

    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


def test_orgs_create_prints_the_new_id_alone(cli, app):
    result = cli(
        "orgs", "create", "--name", "Northwind Supplies", "--email", "Hi@Northwind.example"
    )
    assert result.exit_code == 0
    org_id = uuid.UUID(result.stdout.strip())
    with app.app_context():
        organization = db.session.get(Organization, org_id)
        assert (organization.name, organization.email) == (
            "Northwind Supplies",
            "hi@northwind.example",
        )


def test_members_add_and_connections_add(cli, make_org, app):
    host, guest, group = make_org("Host"), make_org("Guest"), make_org("Group")
    result = cli(
        "members", "add", "--org", str(host), "--email", "Ann@Host.example", "--role", "admin"
    )
    assert result.exit_code == 0, result.output
    assert "ann@host.example is now admin" in result.stdout

    result = cli(
        "connections", "add", "--host", str(host), "--guest", str(guest),
        "--owner-email", "sales@host.example", "--score", "87.5", "--parent", str(group),
        "--status", "disconnected", "--archived",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        connection = db.session.scalar(db.select(GuestConnection))
        assert connection.total_score == 87.5
        assert connection.parent_organization_id == group
        assert connection.status == "disconnected"
        assert connection.archived and connection.archived_at is not None


def test_api_clients_create_prints_one_json_line_and_stores_no_clear_secret(cli, make_org, app):
    result = cli("api-clients", "create", "--org", str(make_org("Host")), "--name", "ERP")
    assert result.exit_code == 0
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret"}
    with app.app_context():
        stored = db.session.scalar(db.select(ApiClient))
        assert stored.client_id == credentials["client_id"]
        assert credentials["client_secret"] not in stored.secret_hash


def test_api_clients_revoke(cli, make_org, make_client):
    credentials = make_client(make_org("Host"))
    result = cli("api-clients", "revoke", credentials.client_id)
    assert result.exit_code == 0
    again = cli("api-clients", "revoke", credentials.client_id)
    assert again.exit_code == 1
    assert (
        again.stderr.strip() == f"Error: There is no active API client '{credentials.client_id}'."
    )


def bad_inputs(host: uuid.UUID, guest: uuid.UUID) -> dict[str, list[str]]:
    unknown = str(uuid.uuid4())
    connect = ["connections", "add", "--host", str(host), "--guest", str(guest), "--owner-email"]
    return {
        "malformed parent": ["orgs", "create", "--name", "X", "--parent", "nope"],
        "unknown parent": ["orgs", "create", "--name", "X", "--parent", unknown],
        "empty name": ["orgs", "create", "--name", "  "],
        "name too long": ["orgs", "create", "--name", "x" * 301],
        "bad org e-mail": ["orgs", "create", "--name", "X", "--email", "not-an-email"],
        "member of unknown org": ["members", "add", "--org", unknown, "--email", "a@b.example"],
        "member with bad e-mail": ["members", "add", "--org", str(host), "--email", "a@"],
        "unknown guest": [*connect[:5], unknown, "--owner-email", "o@h.example"],
        "malformed host": ["connections", "add", "--host", "1", "--guest", str(guest),
                           "--owner-email", "o@h.example"],
        "own guest": [*connect[:5], str(host), "--owner-email", "o@h.example"],
        "negative score": [*connect, "o@h.example", "--score", "-1"],
        "score above 100": [*connect, "o@h.example", "--score", "100.5"],
        "non-numeric score": [*connect, "o@h.example", "--score", "high"],
        "infinite score": [*connect, "o@h.example", "--score", "inf"],
        "NaN score": [*connect, "o@h.example", "--score", "nan"],
        "bad owner e-mail": [*connect, "owner"],
        "unknown connection parent": [*connect, "o@h.example", "--parent", unknown],
        "client of unknown org": ["api-clients", "create", "--org", unknown, "--name", "X"],
        "client of malformed org": ["api-clients", "create", "--org", "x", "--name", "X"],
        "client with empty name": ["api-clients", "create", "--org", str(host), "--name", " "],
        "revoke unknown client": ["api-clients", "revoke", "gc_nobody"],
        "scale for unknown host": ["seed-scale", "--host", unknown, "--count", "5"],
    }  # fmt: skip


BAD_INPUTS = list(bad_inputs(uuid.uuid4(), uuid.uuid4()))


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_prints_one_line_exits_1_and_writes_nothing(cli, make_org, row_counts, case):
    host, guest = make_org("Host"), make_org("Guest")
    before = row_counts()

    result = cli(*bad_inputs(host, guest)[case])

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert row_counts() == before


def test_duplicates_are_refused(cli, make_org, make_connection, make_member, row_counts):
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest)
    make_member(host, "ann@host.example")
    before = row_counts()

    connect = cli("connections", "add", "--host", str(host), "--guest", str(guest),
                  "--owner-email", "o@h.example")  # fmt: skip
    member = cli("members", "add", "--org", str(host), "--email", "ANN@host.example")

    assert connect.exit_code == member.exit_code == 1
    assert connect.stderr.strip() == "Error: These organizations are already connected."
    assert (
        member.stderr.strip() == "Error: ann@host.example is already a member of this organization."
    )
    assert row_counts() == before


def test_seed_demo_is_idempotent(cli, row_counts):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    counts = row_counts()
    second = cli("seed-demo")
    assert second.exit_code == 0
    assert json.loads(second.stdout) == summary
    assert row_counts() == counts
    assert len(summary["hosts"]) == 3
    assert sum(host["guests"] for host in summary["hosts"]) == counts["guest_connections"] == 40


def test_seed_demo_data_has_the_variety_a_demo_needs(cli, app):
    cli("seed-demo")
    with app.app_context():
        rows = db.session.scalars(db.select(GuestConnection)).all()
    assert any(row.archived for row in rows)
    assert any(row.status == "disconnected" for row in rows)
    assert any(row.total_score is None for row in rows)
    assert any(row.active_action_type is not None for row in rows)
    assert any(row.parent_organization_id is not None for row in rows)


def test_every_demo_score_has_a_statement_and_a_run_behind_it(cli, app):
    """Is each demo score the latest successful run's, scoring one of the guest's statements?"""
    cli("seed-demo")
    with app.app_context():
        scored = db.session.scalars(
            db.select(GuestConnection).where(GuestConnection.total_score.is_not(None))
        ).all()
        assert scored
        for connection in scored:
            latest = db.session.scalar(
                db.select(ScoreChange)
                .where(
                    ScoreChange.host_organization_id == connection.host_organization_id,
                    ScoreChange.guest_organization_id == connection.guest_organization_id,
                )
                .order_by(ScoreChange.changed_at.desc())
                .limit(1)
            )
            run = db.session.get(AnalyticsRun, latest.run_id)
            statement = db.session.get(FinancialStatement, run.statement_id)
            assert run.status == "success" and run.model == "Altman Z″"
            assert run.total_score == latest.total_score == connection.total_score
            assert statement.organization_id == connection.guest_organization_id
            assert run.analyzed_on == connection.score_updated_at


def test_seed_scale_adds_guests_and_reports_progress(cli, make_org, row_counts):
    host = make_org("Host")
    result = cli("seed-scale", "--host", str(host), "--count", "12")
    assert result.exit_code == 0, result.output
    assert json_line(result.stdout) == {
        "host_organization_id": str(host),
        "guests_added": 12,
        "scores": "set directly, as bulk data: no statements or analytics runs",
    }
    assert "Adding guests" in result.stderr
    assert row_counts()["guest_connections"] == 12


def test_keys_rotate_prints_the_new_key(cli, client, make_org, make_client):
    client.post("/oauth2/token", json=make_client(make_org("Host")).__dict__)
    first_kid = client.get("/.well-known/jwks.json").json["keys"][0]["kid"]
    result = cli("keys", "rotate")
    assert result.exit_code == 0
    rotated = json.loads(result.stdout)
    assert rotated["retired"] == [first_kid]
    assert rotated["kid"] != first_kid


def test_the_demo_last_update_is_never_older_than_what_it_shows(cli, app):
    """Is every demo connection's "Last update" at least its score, archive and action dates?"""
    assert cli("seed-demo").exit_code == 0
    with app.app_context():
        for row in db.session.scalars(db.select(GuestConnection)):
            for other in (
                row.created_at,
                row.score_updated_at,
                row.archived_at,
                row.active_action_updated_at,
            ):
                assert other is None or row.updated_at >= other, row.guest_organization_id


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


# -- flask invitations, flask outbox --------------------------------------------------------------


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
    monkeypatch.setattr("app.services.outbox.smtplib.SMTP", FakeSMTP)
    FakeSMTP.sent = []

    first = cli("outbox", "send")
    second = cli("outbox", "send")

    assert json.loads(first.stdout) == {"sent": 1, "waiting": 0}
    assert json.loads(second.stdout) == {"sent": 0, "waiting": 0}
    assert FakeSMTP.sent == [(("mail.example", 25), "finance@alder.example", "Northwind noticed")]


# -- flask audit list --------------------------------------------------------------------------


def test_audit_list_prints_one_line_per_event_newest_first(app, runner, pair):
    host, guest = pair
    with app.app_context():
        guest_connections.set_archived(host, guest, True, actor=Actor(ActorKind.USER, "u1", "Nora"))
    result = runner.invoke(args=["audit", "list", "--org", str(host)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    assert "user Nora  guest_connection.archived guest_connection " + str(guest) in lines[0]
    assert "archived: false -> true; archived_at: null -> 20" in lines[0]
    assert "guest_connection.created" in lines[1]
    assert "owner_email: null -> sales@northwind.example" in lines[1]
    assert "cli command line (" in lines[2]
    assert "organization.created organization " + str(host) in lines[2]
    assert "name: null -> Northwind Supplies" in lines[2]

    limited = runner.invoke(args=["audit", "list", "--org", str(host), "--limit", "1"])
    assert limited.output.strip().splitlines() == lines[:1]


def test_audit_list_says_when_there_is_nothing(app, runner):
    with app.app_context():  # made as the seed commands do, without the services' audit
        organization = Organization(name="Quiet Host")
        db.session.add(organization)
        db.session.commit()
        host = organization.id
    result = runner.invoke(args=["audit", "list", "--org", str(host)])
    assert result.exit_code == 0
    assert result.output == f"No audit events for Quiet Host ({host}).\n"


@pytest.mark.parametrize(
    ("org", "message"),
    [
        ("not-a-uuid", "--org must be an organization id (a UUID), not 'not-a-uuid'."),
        ("00000000-0000-0000-0000-000000000000", "There is no organization with id"),
    ],
)
def test_audit_list_refuses_a_bad_organization(runner, org, message):
    result = runner.invoke(args=["audit", "list", "--org", org])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


# -- members: add, set-role, remove, list --------------------------------------------------------


def test_members_are_managed_fully_from_the_command_line(app, runner, make_org):
    """add → list → set-role → remove, each one line, each in the organization's audit trail."""
    org = str(make_org("Northwind Supplies"))
    added = runner.invoke(
        args=[
            "members",
            "add",
            "--org",
            org,
            "--email",
            "Nora@Northwind.example",
            "--role",
            "owner",
        ]
    )
    runner.invoke(args=["members", "add", "--org", org, "--email", "sam@northwind.example"])
    sam = ["--org", org, "--email", "sam@northwind.example"]
    promoted = runner.invoke(args=["members", "set-role", *sam, "--role", "admin"])
    listed = runner.invoke(args=["members", "list", "--org", org])
    removed = runner.invoke(
        args=["members", "remove", "--org", org, "--email", "sam@northwind.example"]
    )
    after = runner.invoke(args=["members", "list", "--org", org])

    assert added.exit_code == promoted.exit_code == removed.exit_code == 0
    assert promoted.output.strip() == f"sam@northwind.example is now admin of {org}"
    assert listed.output.splitlines() == [
        "nora@northwind.example\towner\t\tnever",
        "sam@northwind.example\tadmin\t\tnever",
    ]
    assert removed.output.strip() == f"sam@northwind.example is no longer a member of {org}"
    assert after.output.splitlines() == ["nora@northwind.example\towner\t\tnever"]
    with app.app_context():
        actions = [event.action for event in audit.list_events(uuid.UUID(org))]
    assert "membership.role_changed" in actions and "membership.removed" in actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set-role", "--email", "ghost@x.example", "--role", "admin"], "is not a member"),
        (["remove", "--email", "ghost@x.example"], "is not a member"),
        (["set-role", "--email", "nora@northwind.example", "--role", "admin"], "one owner"),
        (["remove", "--email", "nora@northwind.example"], "at least one owner"),
        (["list", "--org", str(uuid.uuid4())], "There is no organization"),
    ],
)  # fmt: skip
def test_member_commands_refuse_with_one_line(runner, make_org, make_member, args, message):
    org = make_org("Northwind Supplies")
    make_member(org, "nora@northwind.example", role="owner")
    command = ["members", *args] if "--org" in args else ["members", *args, "--org", str(org)]
    result = runner.invoke(args=command)
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_orgs_link_sso_admits_by_claim_value(app, runner, make_org):
    org = make_org("Northwind Supplies")
    result = runner.invoke(
        args=[
            "orgs", "link-sso", "--org", str(org), "--issuer", "https://login.example.com/",
            "--claim-value", "northwind-eu",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"{org} admits https://login.example.com claim value 'northwind-eu'"
    )
    refused = runner.invoke(
        args=[
            "orgs", "link-sso", "--org", str(org), "--issuer", "https://login.example.com",
            "--claim-value", str(org),
        ]
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "not an organization id" in refused.output
