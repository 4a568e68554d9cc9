"""Inviting a guest from the dashboard, and accepting an invitation in the browser."""

from __future__ import annotations

import html
import re

import pytest

from app.extensions import db
from app.models import (
    GuestInvitation,
    InvitationStatus,
    Membership,
    Organization,
    OutboxMessage,
    Role,
)
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


def test_without_a_sender_the_page_shows_the_link_with_a_copy_button(host_admin):
    client, host = host_admin
    page = text(invite_on_page(client, host))
    assert "Send this link to" in page
    assert 'data-copy="invitation-link"' in page
    assert "E-mail sent" not in page


def test_with_a_sender_the_page_says_the_e_mail_went(host_admin, smtp_server, run_worker):
    client, host = host_admin
    response = invite_on_page(client, host, "cfo@bigcustomer.example")
    assert "E-mail sent to cfo@bigcustomer.example" in text(response)
    run_worker()
    [message] = smtp_server.messages
    assert invitation_link(response) in message.get_content()


@pytest.mark.parametrize("control", ["\r\n", "\n", "\x1b"])
def test_the_accept_page_refuses_a_name_with_control_characters(
    app, host_admin, guest_admin, control
):
    """The reproduction: a guest name with CR/LF typed on the accept page is refused, clearly."""
    host_client, host = host_admin
    guest_client, _ = guest_admin
    link = invitation_link(invite_on_page(host_client, host))
    before = row_count(app, Organization)

    response = accept_on_page(guest_client, link, name=f"Evil{control}Subject: hi")

    assert response.status_code == 422
    assert "must not contain control characters" in text(response)
    assert row_count(app, Organization) == before


# -- taking over an invitation (issue 11, item 1) -----------------------------------------------

VICTIM = "cfo@bigcustomer.example"
ATTACKER = "mallory@evil.example"


def person(app, oidc_provider, make_org, make_member, email: str, org_name: str):
    """Return (a signed-in client, their organization) for a person with a verified e-mail."""
    organization = make_org(org_name)
    make_member(organization, email, role="owner")
    client = app.test_client()
    sign_in_as(client, oidc_provider, f"sub-{email}", {"email": email, "email_verified": True})
    return client, organization


def invitation_to(app, email: str) -> GuestInvitation:
    with app.app_context():
        return db.session.scalars(
            db.select(GuestInvitation)
            .where(GuestInvitation.email == email)
            .order_by(GuestInvitation.created_at.desc())
        ).first()


def test_a_typed_organization_email_does_not_take_over_an_invitation(
    app, host_admin, oidc_provider, make_org, make_member
):
    """The reproduction: the attacker names their new organization after the victim and types
    the victim's e-mail. Nothing of the victim's invitation may move."""
    host_client, host = host_admin
    victim_link = invitation_link(invite_on_page(host_client, host, email=VICTIM))
    attacker_link = invitation_link(invite_on_page(host_client, host, email=ATTACKER))
    attacker, _ = person(app, oidc_provider, make_org, make_member, ATTACKER, "Evil Corp")

    taken = accept_on_page(attacker, attacker_link, name="Big Customer Ltd", email=VICTIM)

    assert taken.status_code == 302  # the attacker's own invitation is theirs to accept
    victims = invitation_to(app, VICTIM)
    assert victims.status == InvitationStatus.SENT
    assert victims.guest_organization_id is None
    # A fresh invitation to the victim's e-mail waits for the victim, too.
    dashboard = f"/orgs/{host}/guest-connections"
    post_form(
        host_client,
        f"/orgs/{host}/invitations/{victims.id}/archived",
        dashboard,
        archived="true",
    )
    fresh_link = invitation_link(invite_on_page(host_client, host, email=VICTIM))
    fresh = invitation_to(app, VICTIM)
    assert fresh.status == InvitationStatus.SENT and fresh.guest_organization_id is None
    # And the real guest's link works.
    victim, real_org = person(app, oidc_provider, make_org, make_member, VICTIM, "Big Customer")
    accepted = accept_on_page(victim, fresh_link, organization_id=str(real_org))
    assert accepted.status_code == 302
    assert invitation_to(app, VICTIM).guest_organization_id == real_org
    assert victim_link != fresh_link


def test_the_signed_in_persons_own_verified_email_is_proven(
    app, host_admin, oidc_provider, make_org, make_member
):
    """Typing one's own (provider-verified) e-mail proves it: later invitations to it close."""
    host_client, host = host_admin
    link = invitation_link(invite_on_page(host_client, host, email=ATTACKER))
    newcomer, _ = person(app, oidc_provider, make_org, make_member, ATTACKER, "Old Co")

    accept_on_page(newcomer, link, name="New Co", email=ATTACKER.upper())

    with app.app_context():
        organization = db.session.scalar(
            db.select(Organization).where(Organization.name == "New Co")
        )
    assert organization.email_proven is True
    dashboard = f"/orgs/{host}/guest-connections"
    again = invite_on_page(host_client, host, email=ATTACKER)
    assert again.status_code == 200, text(again)
    assert invitation_to(app, ATTACKER).status == InvitationStatus.ACCEPTED_BY_SYSTEM
    assert dashboard  # the host sees it closed at once


def confirmation_link(app, email: str) -> str:
    """Return the link in the confirmation message queued to this e-mail."""
    with app.app_context():
        body = db.session.scalar(
            db.select(OutboxMessage.body).where(
                OutboxMessage.kind == "email_confirmation", OutboxMessage.recipient_email == email
            )
        )
    assert body, f"no confirmation queued to {email}"
    return re.search(r"(/organizations/confirm-email\?token=\S+)", body).group(1)


def test_a_typed_email_counts_once_its_reader_follows_the_confirmation_link(
    app, host_admin, oidc_provider, make_org, make_member
):
    """The other proof: a link sent to the typed address. Opening it proves nothing yet;
    pressing confirm does."""
    host_client, host = host_admin
    link = invitation_link(invite_on_page(host_client, host, email=ATTACKER))
    newcomer, _ = person(app, oidc_provider, make_org, make_member, ATTACKER, "Old Co")
    accept_on_page(newcomer, link, name="Big Customer Ltd", email=VICTIM)
    confirm = confirmation_link(app, VICTIM)

    reader = app.test_client()  # whoever reads the victim's mail, signed in nowhere
    page = reader.get(confirm)
    assert page.status_code == 200
    assert f"Is {VICTIM} the e-mail of Big Customer Ltd?" in html.unescape(text(page))
    with app.app_context():
        organization = db.session.scalar(
            db.select(Organization).where(Organization.name == "Big Customer Ltd")
        )
    assert organization.email_proven is False

    form = {
        "token": re.search(r'name="token" value="([^"]+)"', text(page)).group(1),
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', text(page)).group(1),
    }
    done = reader.post("/organizations/confirm-email", data=form)

    assert done.status_code == 200 and "is confirmed" in text(done)
    with app.app_context():
        assert db.session.get(Organization, organization.id).email_proven is True
    invite_on_page(host_client, host, email=VICTIM)
    assert invitation_to(app, VICTIM).status == InvitationStatus.ACCEPTED_BY_SYSTEM
    again = reader.post("/organizations/confirm-email", data=form)
    assert again.status_code == 404  # the link works once
