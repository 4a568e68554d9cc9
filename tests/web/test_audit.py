"""The audit trail in the browser face: the detail page's history, and sign-in's memberships."""

from __future__ import annotations

import re

from app.services import audit, organizations
from app.services.audit import Actor, Subject
from tests.conftest import csrf_token, sign_in_as
from tests.web.conftest import text


def test_archiving_from_the_page_is_in_the_history(app, northwind):
    """Does the detail page show who archived and unarchived, what changed, and when?"""
    client, host, guests = northwind
    detail = f"/orgs/{host}/guest-connections/{guests['Alder Foods']}"
    for archived in ("true", "false"):
        client.post(
            f"{detail}/archived",
            data={"archived": archived, "csrf_token": csrf_token(client, detail)},
        )

    page = text(client.get(detail))

    events = re.findall(r"<strong>(\w+)</strong> by ([^\n]+)", page)
    assert events == [
        ("Unarchived", "admin@host.example"),
        ("Archived", "admin@host.example"),
        ("Connected", "command line (" + events[2][1].split("(", 1)[1]),
    ]
    assert "<code>archived: false → true</code>" in page
    assert "<code>archived: true → false</code>" in page
    with app.app_context():
        [latest, *_] = audit.list_events(host, Subject.guest_connection(guests["Alder Foods"]))
        assert latest.actor_kind.value == "user"
        assert latest.action == "guest_connection.unarchived"


def test_history_shows_only_this_hosts_events(northwind, make_org, make_connection):
    """Is another host's history with the same guest kept out of this host's page?"""
    client, host, guests = northwind
    other = make_org("Other Host")
    make_connection(other, guests["Alder Foods"], owner_email="secret@other.example")
    page = text(client.get(f"/orgs/{host}/guest-connections/{guests['Alder Foods']}"))
    assert "secret@other.example" not in page
    assert len(re.findall(r'class="audit-trail__event"', page)) == 1


def test_a_membership_from_the_sign_in_claim_is_recorded(app, client, oidc_provider, make_org):
    """Is a membership granted by the provider's organization claim in the trail?"""
    org = make_org("Northwind Supplies")
    with app.app_context():
        organizations.link_sso(org, oidc_provider.issuer, "northwind", actor=Actor.cli())
    app.config["OIDC_ORG_CLAIM"] = "orgs"
    try:
        claims = {"email": "new@northwind.example", "email_verified": True, "orgs": ["northwind"]}
        assert sign_in_as(client, oidc_provider, "sub-new", claims).status_code == 302
    finally:
        app.config["OIDC_ORG_CLAIM"] = None
    with app.app_context():
        [event] = [e for e in audit.list_events(org) if e.action == "membership.added"]
        assert event.actor_kind.value == "user"
        assert event.actor_label == "new@northwind.example (organization claim at sign-in)"
        assert event.changes == {"email": [None, "new@northwind.example"], "role": [None, "member"]}
