"""The audit trail of the connection lifecycle: invitations, acceptance, leaving, analytics."""

from __future__ import annotations

import pytest

from app import audit
from app.audit import Subject
from tests.api.lifecycle import accept, in_days, invite, request_analytics, submit_score


@pytest.fixture
def parties(make_org, make_client, client):
    """A host and a guest organization, each with an API client; returns ids, tokens, clients."""
    host = make_org("Northwind Supplies", "hello@northwind.example")
    guest = make_org("Alder", "finance@alder.example")
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

    invitation = invite(api, p["host_token"], host).json
    resent = api.call(
        "POST",
        f"/v1/guest-invitations/{invitation['id']}/resend",
        token=p["host_token"],
        requester=host,
        json={"expired_at": in_days(30)},
    )
    assert resent.status_code in (200, 201), resent.json
    token = resent.json["invitation_token"]
    assert accept(api, p["guest_token"], guest, host, token).status_code == 201
    assert request_analytics(api, p["host_token"], host, guest).status_code == 201
    assert submit_score(api, p["guest_token"], guest, 87.5).status_code == 201
    left = api.call(
        "PATCH",
        f"/v1/host-connections/{host}",
        token=p["guest_token"],
        requester=guest,
        json={"status": "disconnected"},
    )
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
    assert changes["guest_connection.score_updated"] == {"total_score": [None, 87.5]}
    assert changes["guest_connection.disconnected"] == {"status": ["connected", "disconnected"]}
    assert token not in str(events) and invitation["invitation_token"] not in str(events)
    # The detail page's history of this guest holds the connection's part.
    connection_events = trail(app, host, Subject.guest_connection(guest))
    assert [action for action, _, _ in connection_events][0] == "guest_connection.created"


def test_archiving_an_invitation_is_recorded(app, api, parties):
    p = parties
    invitation = invite(api, p["host_token"], p["host"]).json
    path = f"/v1/guest-invitations/{invitation['id']}"
    for archived in (True, True, False):  # the repeat changes nothing and records nothing
        response = api.call(
            "PATCH", path, token=p["host_token"], requester=p["host"], json={"archived": archived}
        )
        assert response.status_code == 200
    actions = [a for a, _, _ in trail(app, p["host"], Subject("invitation", invitation["id"]))]
    assert actions == ["invitation.created", "invitation.archived", "invitation.unarchived"]


def test_a_refused_request_records_nothing(app, api, parties, make_connection):
    """Does a refused analytics request (guest disconnected) leave no event behind?"""
    p = parties
    make_connection(p["host"], p["guest"], status="disconnected")
    assert request_analytics(api, p["host_token"], p["host"], p["guest"]).status_code == 409
    assert [a for a, _, _ in trail(app, p["host"])] == ["guest_connection.created"]


def test_a_new_score_records_the_previous_one_for_every_host(
    app, api, parties, make_org, make_connection
):
    p = parties
    other_host = make_org("Bluewater Freight")
    make_connection(p["host"], p["guest"], score=40)
    make_connection(other_host, p["guest"])
    assert submit_score(api, p["guest_token"], p["guest"], 55).status_code == 201
    assert trail(app, p["host"])[-1][0::2] == (
        "guest_connection.score_updated",
        {"total_score": [40.0, 55]},
    )
    assert trail(app, other_host)[-1][0::2] == (
        "guest_connection.score_updated",
        {"total_score": [None, 55]},
    )
