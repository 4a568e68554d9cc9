"""Inviting a guest from the dashboard, and accepting an invitation in the browser."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import GuestInvitation, Membership, Organization, Role
from app.services import audit
from tests.conftest import row_count, sign_in_as
from tests.web.conftest import (
    GUEST_ADMIN,
    HOST_ADMIN,
    accept_on_page,
    invitation_link,
    invitation_path,
    invite_on_page,
    post_form,
    see_other,
    text,
)

# -- the host invites -----------------------------------------------------------------------------


def test_the_host_invites_from_the_dashboard_and_sees_the_link_once(app, host_admin):
    """Does inviting show the link, and the dashboard the invitation waiting?"""
    client, host = host_admin

    dashboard = text(client.get(f"/orgs/{host}/guest-connections"))
    response = invite_on_page(client, host)

    assert "Invite your customers" in dashboard  # a new host: the "get started" page
    assert response.status_code == 200
    assert "Send this link to cfo@alder.example" in text(response)
    link = invitation_link(response)
    assert "/invitations/accept?token=" in link
    waiting = text(client.get(f"/orgs/{host}/guest-connections"))
    assert "cfo@alder.example" in waiting and "Pending" in waiting
    date = (
        r'<span class="time-date"><span class="time-date__dot"> · </span>\d{1,2} \w{3} \d{4}</span>'
    )
    assert re.search(r">in 2 weeks" + date, waiting)
    assert link.split("token=")[1] not in waiting
    with app.app_context():
        invitation = db.session.scalar(db.select(GuestInvitation))
        assert invitation.owner_email == HOST_ADMIN


@pytest.mark.parametrize(("email", "days"), [("", "14"), ("not-an-email", "14")])
def test_a_bad_invitation_is_explained(host_admin, email, days):
    client, host = host_admin
    response = invite_on_page(client, host, email=email, days=days)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "flash--error" in page


def test_resend_gives_a_new_link_and_withdraw_hides_it(host_admin):
    client, host = host_admin
    first = invitation_link(invite_on_page(client, host))
    with client.application.app_context():
        invitation_id = db.session.scalar(db.select(GuestInvitation.id))
    dashboard = f"/orgs/{host}/guest-connections"

    resent = see_other(
        client,
        post_form(client, f"/orgs/{host}/invitations/{invitation_id}/resend", dashboard, days="30"),
    )
    withdrawn = post_form(
        client,
        f"/orgs/{host}/invitations/{invitation_id}/archived",
        dashboard,
        archived="true",
        next=dashboard,
    )

    assert "the earlier link no longer works" in text(resent)
    assert invitation_link(resent) != first
    assert withdrawn.headers["Location"] == dashboard
    assert "The invitation to cfo@alder.example is withdrawn" in text(client.get(dashboard))
    assert "cfo@alder.example" not in text(client.get(dashboard))
    archived = text(client.get(f"/orgs/{host}/invitations?show=archived"))
    assert "cfo@alder.example" in archived and "Restore" in archived


@pytest.mark.parametrize("action", ["invite", "resend"])
def test_a_reload_after_inviting_sends_nothing_again(app, host_admin, action):
    """Post/Redirect/Get: does the form answer with a redirect, the link show once, and a reload
    of the page it leads to neither send again nor show the link again?"""
    client, host = host_admin
    dashboard = f"/orgs/{host}/guest-connections"
    response = post_form(client, f"/orgs/{host}/invitations", dashboard, email=GUEST_ADMIN)
    if action == "resend":
        see_other(client, response)
        with app.app_context():
            invitation_id = db.session.scalar(db.select(GuestInvitation.id))
        response = post_form(client, f"/orgs/{host}/invitations/{invitation_id}/resend", dashboard)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/orgs/{host}/invitations/sent"
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    link = invitation_link(shown)
    assert 'data-copy="invitation-link"' in text(shown)  # a Copy button, like the secrets'

    reloaded = client.get(response.headers["Location"])
    assert reloaded.status_code == 302
    page = text(client.get(reloaded.headers["Location"]))
    assert "An invitation link is shown only once" in page
    assert link.split("token=")[1] not in page
    assert row_count(app, GuestInvitation) == 1
    with app.app_context():
        events = [e.action for e in audit.list_events(host)]
        assert events.count("invitation.created") == 1
        assert events.count("invitation.resent") == (1 if action == "resend" else 0)


def test_inviting_twice_says_to_resend(host_admin):
    client, host = host_admin
    invite_on_page(client, host)
    response = invite_on_page(client, host)
    page = text(client.get(response.headers["Location"]))
    assert "resend it instead" in page


# -- the guest accepts --------------------------------------------------------------------------


def test_the_guest_accepts_for_its_organization(host_admin, guest_admin):
    """Does the link name the host, and accepting connect the guest's organization?"""
    host_client, host = host_admin
    guest_client, guest = guest_admin
    link = invitation_link(invite_on_page(host_client, host))

    page = text(guest_client.get(invitation_path(link)))
    response = accept_on_page(guest_client, link, organization_id=str(guest))

    assert "Northwind Supplies invites you to connect" in page
    assert f'<option value="{guest}">Alder Foods</option>' in page
    assert response.headers["Location"] == f"/orgs/{guest}/hosts"
    hosts = text(guest_client.get(f"/orgs/{guest}/hosts"))
    assert "You are now connected to Northwind Supplies" in hosts
    assert "Northwind Supplies" in hosts and "Disconnect" in hosts
    detail = text(host_client.get(f"/orgs/{host}/guest-connections/{guest}"))
    assert "Alder Foods" in detail and "Request analytics" in detail
    used = text(guest_client.get(invitation_path(link)))
    assert "already been accepted" in used


def test_the_guest_can_create_its_organization_when_accepting(
    app, host_admin, oidc_provider, make_org, make_member
):
    host_client, host = host_admin
    make_member(make_org("Unrelated"), "new@birch.example", role="member")
    client = app.test_client()
    sign_in_as(
        client, oidc_provider, "sub-new", {"email": "new@birch.example", "email_verified": True}
    )
    link = invitation_link(invite_on_page(host_client, host, email="new@birch.example"))

    response = accept_on_page(client, link, name="Birch Logistics", email="ops@birch.example")

    assert response.status_code == 302
    with app.app_context():
        organization = db.session.scalar(
            db.select(Organization).where(Organization.name == "Birch Logistics")
        )
        role = db.session.scalar(
            db.select(Membership.role).where(Membership.organization_id == organization.id)
        )
    assert role == Role.OWNER
    assert response.headers["Location"] == f"/orgs/{organization.id}/hosts"


def test_an_unknown_link_is_404_and_a_stranger_org_is_403(host_admin, guest_admin, make_org):
    host_client, host = host_admin
    guest_client, _ = guest_admin
    assert guest_client.get("/invitations/accept?token=" + "x" * 43).status_code == 404
    link = invitation_link(invite_on_page(host_client, host))
    stranger = make_org("Not Mine")
    assert accept_on_page(guest_client, link, organization_id=str(stranger)).status_code == 403


def test_accepting_needs_sign_in_and_comes_back(client, host_admin, app):
    host_client, host = host_admin
    link = invitation_path(invitation_link(invite_on_page(host_client, host)))
    response = app.test_client().get(link)
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]
    assert "token" in response.headers["Location"]


def test_another_organizations_invitations_are_403(host_admin, guest_admin):
    host_client, _ = host_admin
    _, guest = guest_admin
    assert host_client.get(f"/orgs/{guest}/invitations").status_code == 403
