"""The audit trail: who changed what and when, for archive, API clients and connections."""

from __future__ import annotations

import uuid

import pytest

from app import api_clients, audit, connections
from app.access import Principal
from app.audit import Actor, Subject
from app.extensions import db
from app.models import ActorKind, Organization, Role, User
from tests.conftest import json_line


@pytest.fixture
def pair(make_org, make_connection):
    host, guest = make_org("Northwind Supplies"), make_org("Alder Foods")
    make_connection(host, guest, owner_email="sales@northwind.example", score=87.5)
    return host, guest


def events(app, organization_id, subject=None):
    """Return the organization's events (but its own creation), newest first, as plain data."""
    with app.app_context():
        return [
            {
                "actor": (event.actor_kind.value, event.actor_id, event.actor_label),
                "action": event.action,
                "subject": (event.subject_type, event.subject_id),
                "changes": event.changes,
                "created_at": event.created_at,
            }
            for event in audit.list_events(organization_id, subject)
            if event.action != "organization.created"
        ]


def test_api_archive_and_unarchive_are_recorded(app, api, make_client, client, pair):
    """Does the trail say which API client archived, what changed (before -> after), and when?"""
    host, guest = pair
    credentials = make_client(host, name="ERP integration")
    token = client.post("/oauth2/token", json=credentials.__dict__).json["access_token"]
    path = f"/v1/guest-connections/{guest}"

    archived = api.call("PATCH", path, token=token, requester=host, json={"archived": True}).json
    api.call("PATCH", path, token=token, requester=host, json={"archived": False})

    trail = events(app, host, Subject.guest_connection(guest))
    actor = (
        "api_client",
        credentials.client_id,
        f"API client ERP integration ({credentials.client_id})",
    )
    assert [(e["action"], e["actor"], e["changes"]) for e in trail[:2]] == [
        (
            "guest_connection.unarchived",
            actor,
            {"archived": [True, False], "archived_at": [archived["archived_at"], None]},
        ),
        (
            "guest_connection.archived",
            actor,
            {"archived": [False, True], "archived_at": [None, archived["archived_at"]]},
        ),
    ]
    assert trail[0]["created_at"] >= trail[1]["created_at"]
    assert trail[2]["action"] == "guest_connection.created"
    assert all(event["subject"] == ("guest_connection", str(guest)) for event in trail)


def test_a_user_is_named_in_the_trail(app, pair, make_member):
    """Is a signed-in user's change recorded with their name and e-mail?"""
    host, guest = pair
    make_member(host, "nora@northwind.example", role="admin", name="Nora Admin")
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "nora@northwind.example"))
        principal = Principal.user(user.id, {host: Role.ADMIN})
        connections.set_archived(host, guest, True, actor=Actor.of(principal))
        user_id = str(user.id)
    assert events(app, host)[0]["actor"] == ("user", user_id, "Nora Admin <nora@northwind.example>")


def test_a_connection_made_at_the_command_line_is_recorded(app, runner, make_org):
    host, guest = make_org("Host"), make_org("Guest")
    result = runner.invoke(
        args=[
            "connections",
            "add",
            "--host",
            str(host),
            "--guest",
            str(guest),
            "--owner-email",
            "Sales@Host.example",
            "--score",
            "40",
        ]
    )
    assert result.exit_code == 0, result.output
    [event] = events(app, host)
    assert event["actor"][0] == "cli" and event["actor"][2].startswith("command line (")
    assert event["action"] == "guest_connection.created"
    assert event["changes"] == {
        "status": [None, "connected"],
        "owner_email": [None, "sales@host.example"],
        "total_score": [None, 40.0],
        "archived": [None, False],
    }


def test_api_clients_created_and_revoked_are_recorded(app, runner, make_org):
    """Are creating and revoking an API client recorded, at the command line too?"""
    host = make_org("Host")
    created = runner.invoke(args=["api-clients", "create", "--org", str(host), "--name", "ERP"])
    client_id = json_line(created.output)["client_id"]
    revoked = runner.invoke(args=["api-clients", "revoke", client_id])
    assert revoked.exit_code == 0, revoked.output

    trail = events(app, host, Subject.api_client(client_id))
    assert [event["action"] for event in trail] == ["api_client.revoked", "api_client.created"]
    assert trail[1]["changes"] == {"name": [None, "ERP"], "client_id": [None, client_id]}
    assert list(trail[0]["changes"]) == ["revoked_at"]
    assert trail[0]["changes"]["revoked_at"][0] is None
    assert all(event["actor"][0] == "cli" for event in trail)
    assert json_line(created.output)["client_secret"] not in str(trail)


def test_a_refused_write_records_nothing(app, make_org):
    host = make_org("Host")
    with app.app_context():
        with pytest.raises(api_clients.ApiClientNotFound):
            api_clients.revoke_api_client("gc_unknown", actor=Actor.cli())
        with pytest.raises(connections.GuestConnectionNotFound):
            connections.set_archived(host, uuid.uuid4(), True, actor=Actor.cli())
    assert events(app, host) == []


def test_events_belong_to_their_organization(app, make_org, make_connection):
    """Does each organization see only its own trail, and a subject only its own events?"""
    host, other_host = make_org("Host"), make_org("Other Host")
    guest_a, guest_b = make_org("Guest A"), make_org("Guest B")
    make_connection(host, guest_a)
    make_connection(host, guest_b)
    make_connection(other_host, guest_a)
    assert len(events(app, host)) == 2
    assert [e["subject"][1] for e in events(app, host, Subject.guest_connection(guest_a))] == [
        str(guest_a)
    ]
    assert len(events(app, other_host)) == 1


def test_list_events_pages_newest_first(app, pair):
    host, guest = pair
    with app.app_context():
        for archived in [True, False, True, False]:
            connections.set_archived(host, guest, archived, actor=Actor.cli())
        page = audit.list_events(host, limit=2, offset=1)
        assert [event.action for event in page] == [
            "guest_connection.archived",
            "guest_connection.unarchived",
        ]


# -- flask audit list --------------------------------------------------------------------------


def test_cli_prints_one_line_per_event_newest_first(app, runner, pair):
    host, guest = pair
    with app.app_context():
        connections.set_archived(host, guest, True, actor=Actor(ActorKind.USER, "u1", "Nora"))
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


def test_cli_says_when_there_is_nothing(app, runner):
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
def test_cli_refuses_a_bad_organization(runner, org, message):
    result = runner.invoke(args=["audit", "list", "--org", org])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_organizations_and_members_made_at_the_command_line_are_recorded(app, runner):
    """Are a new organization and a new member's role recorded in its trail?"""
    created = runner.invoke(
        args=["orgs", "create", "--name", "Northwind", "--email", "A@N.example"]
    )
    org = created.output.strip()
    added = runner.invoke(
        args=["members", "add", "--org", org, "--email", "Nora@N.example", "--role", "admin"]
    )
    assert added.exit_code == 0, added.output
    with app.app_context():
        trail = [(e.action, e.subject_type, e.changes) for e in audit.list_events(uuid.UUID(org))]
        user = db.session.scalar(db.select(User).where(User.email == "nora@n.example"))
    assert trail == [
        (
            "membership.added",
            "user",
            {"email": [None, "nora@n.example"], "role": [None, "admin"]},
        ),
        (
            "organization.created",
            "organization",
            {"name": [None, "Northwind"], "email": [None, "a@n.example"]},
        ),
    ]
    with app.app_context():
        [event] = audit.list_events(uuid.UUID(org), Subject.user(user.id))
        assert event.actor_kind == ActorKind.CLI


def test_a_refused_member_addition_records_nothing(app, runner, make_org, make_member):
    org = make_org("Northwind")
    make_member(org, "nora@n.example")
    again = runner.invoke(args=["members", "add", "--org", str(org), "--email", "nora@n.example"])
    assert again.exit_code == 1
    with app.app_context():
        actions = [e.action for e in audit.list_events(org)]
    assert actions == ["membership.added", "organization.created"]
