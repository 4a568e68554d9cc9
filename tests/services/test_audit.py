"""The audit trail: who changed what and when, through the API, the pages and the commands."""

from __future__ import annotations

import uuid

import pytest

from app.access import Principal
from app.extensions import db
from app.models import ActorKind, Role, User
from app.services import api_clients, audit, guest_connections
from app.services.audit import Actor, Subject
from tests.conftest import SAFE_SCORE, in_days, json_line

# -- archive, API clients, organizations and members ----------------------------------------------


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
        guest_connections.set_archived(host, guest, True, actor=Actor.of(principal))
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
        with pytest.raises(guest_connections.GuestConnectionNotFound):
            guest_connections.set_archived(host, uuid.uuid4(), True, actor=Actor.cli())
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
            guest_connections.set_archived(host, guest, archived, actor=Actor.cli())
        page = audit.list_events(host, limit=2, offset=1)
        assert [event.action for event in page] == [
            "guest_connection.archived",
            "guest_connection.unarchived",
        ]


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


# -- invitations, acceptance, leaving, analytics --------------------------------------------------


@pytest.fixture
def parties(host, guest, make_client, client):
    """The host and the guest, each with an API client; returns ids, tokens and client ids."""
    result = {"host": host, "guest": guest}
    for name, org in (("host", host), ("guest", guest)):
        credentials = make_client(org, name=f"{name} system")
        token = client.post("/oauth2/token", json=credentials.__dict__).json["access_token"]
        result[f"{name}_token"], result[f"{name}_client"] = token, credentials.client_id
    return result


def trail(app, organization_id, subject=None) -> list[tuple[str, str, dict]]:
    """Return (action, actor label, changes) of the organization's events, oldest first."""
    with app.app_context():
        events = audit.list_events(organization_id, subject, limit=100)
    return [
        (e.action, e.actor_label, e.changes)
        for e in reversed(events)
        if e.action not in ("organization.created", "api_client.created")
    ]


def test_the_whole_lifecycle_is_in_the_hosts_trail(app, api, parties):
    """Invite, resend, accept, request, score, leave, notify: who did each, what changed?"""
    p = parties
    host, guest = p["host"], p["guest"]
    host_actor = f"API client host system ({p['host_client']})"
    guest_actor = f"API client guest system ({p['guest_client']})"

    invitation = api.invite(p["host_token"], host).json
    resent = api.resend(p["host_token"], host, invitation["id"], expired_at=in_days(30))
    assert resent.status_code in (200, 201), resent.json
    token = resent.json["invitation_token"]
    assert api.accept(p["guest_token"], guest, host, token).status_code == 201
    assert api.request_analytics(p["host_token"], host, guest).status_code == 201
    assert api.score(p["guest_token"], guest).status_code == 201
    left = api.set_host_status(p["guest_token"], guest, host, "disconnected")
    assert left.status_code == 200
    notified = api.call(
        "POST",
        f"/v1/guest-connections/{guest}/disconnection-notification",
        token=p["host_token"],
        requester=host,
    )
    assert notified.status_code in (200, 201, 202), notified.json

    events = trail(app, host)
    assert [(action, actor) for action, actor, _ in events] == [
        ("invitation.created", host_actor),
        ("invitation.resent", host_actor),
        ("invitation.accepted", guest_actor),
        ("guest_connection.created", guest_actor),
        ("guest_connection.analytics_requested", host_actor),
        ("guest_connection.score_updated", guest_actor),
        ("guest_connection.disconnected", guest_actor),
        ("guest_connection.disconnection_notified", host_actor),
    ]
    changes = {action: change for action, _, change in events}
    assert changes["invitation.created"]["email"] == [None, "guest@alder.example"]
    assert set(changes["invitation.resent"]) == {"last_invitation_sent_at", "expired_at"}
    assert changes["invitation.accepted"] == {"status": ["sent", "accepted_by_guest"]}
    assert changes["guest_connection.created"]["status"] == [None, "connected"]
    assert changes["guest_connection.analytics_requested"] == {
        "active_action_type": [None, "analytics_request"]
    }
    assert changes["guest_connection.score_updated"] == {"total_score": [None, SAFE_SCORE]}
    assert changes["guest_connection.disconnected"] == {"status": ["connected", "disconnected"]}
    assert token not in str(events) and invitation["invitation_token"] not in str(events)
    # The detail page's history of this guest holds the connection's part.
    connection_events = trail(app, host, Subject.guest_connection(guest))
    assert [action for action, _, _ in connection_events][0] == "guest_connection.created"


def test_archiving_an_invitation_is_recorded(app, api, parties):
    p = parties
    invitation = api.invite(p["host_token"], p["host"]).json
    for archived in (True, True, False):  # the repeat changes nothing and records nothing
        response = api.set_invitation_archived(
            p["host_token"], p["host"], invitation["id"], archived
        )
        assert response.status_code == 200
    actions = [a for a, _, _ in trail(app, p["host"], Subject("invitation", invitation["id"]))]
    assert actions == ["invitation.created", "invitation.archived", "invitation.unarchived"]


def test_a_refused_request_records_nothing(app, api, parties, make_connection):
    """Does a refused analytics request (guest disconnected) leave no event behind?"""
    p = parties
    make_connection(p["host"], p["guest"], status="disconnected")
    assert api.request_analytics(p["host_token"], p["host"], p["guest"]).status_code == 409
    assert [a for a, _, _ in trail(app, p["host"])] == ["guest_connection.created"]


def test_a_new_score_records_the_previous_one_for_every_host(
    app, api, parties, make_org, make_connection
):
    p = parties
    other_host = make_org("Bluewater Freight")
    make_connection(p["host"], p["guest"], score=40)
    make_connection(other_host, p["guest"])
    assert api.score(p["guest_token"], p["guest"]).status_code == 201
    assert trail(app, p["host"])[-1][0::2] == (
        "guest_connection.score_updated",
        {"total_score": [40.0, SAFE_SCORE]},
    )
    assert trail(app, other_host)[-1][0::2] == (
        "guest_connection.score_updated",
        {"total_score": [None, SAFE_SCORE]},
    )


def test_a_run_is_in_the_guests_own_trail(app, api, parties, make_connection):
    """Does the guest's trail show the statement and the run, started then succeeded?"""
    p = parties
    make_connection(p["host"], p["guest"])
    run = api.score(p["guest_token"], p["guest"]).json
    events = trail(app, p["guest"])
    assert [action for action, _, _ in events][-3:] == [
        "financial_statement.added",
        "analytics_run.started",
        "analytics_run.succeeded",
    ]
    assert events[-1][2] == {
        "status": ["processing", "success"],
        "total_score": [None, SAFE_SCORE],
        "model": [None, "Altman Z″"],
    }
    assert events[-2][2]["statement_period_end"] == [None, "2025-12-31"]
    about_the_run = trail(app, p["guest"], Subject.analytics_run(uuid.UUID(run["id"])))
    assert [action for action, _, _ in about_the_run] == [
        "analytics_run.started",
        "analytics_run.succeeded",
    ]
