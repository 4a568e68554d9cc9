"""The lifecycle's pages: inviting, accepting, the guest's hosts, analytics and score history."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from app.extensions import db
from app.models import GuestInvitation, Membership, Organization, OutboxMessage, Role
from tests.web.conftest import csrf_token, sign_in_as

HOST_ADMIN = "admin@northwind.example"
GUEST_ADMIN = "cfo@alder.example"
LINK = re.compile(r'id="invitation-link"[^>]*value="([^"]+)"')


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def northwind(make_org, make_member, signed_in):
    """The host, with its admin signed in on the test client."""
    host = make_org("Northwind Supplies", "hello@northwind.example")
    return signed_in(host, HOST_ADMIN), host


@pytest.fixture
def alder(app, make_org, make_member, oidc_provider):
    """The guest organization, with its admin signed in on a second client."""
    guest = make_org("Alder Foods", "finance@alder.example")
    make_member(guest, GUEST_ADMIN, role="admin")
    client = app.test_client()
    sign_in_as(
        client, oidc_provider, f"sub-{GUEST_ADMIN}", {"email": GUEST_ADMIN, "email_verified": True}
    )
    return client, guest


def invite(client, host, email="cfo@alder.example", days="14"):
    dashboard = f"/orgs/{host}/guest-connections"
    return client.post(
        f"/orgs/{host}/invitations",
        data={"email": email, "days": days, "csrf_token": csrf_token(client, dashboard)},
    )


def invitation_link(response) -> str:
    match = LINK.search(text(response))
    assert match, text(response)
    return html.unescape(match.group(1))


def relative(url: str) -> str:
    return url[url.index("/invitations/") :]


def accept(client, link, **form):
    page = client.get(relative(link))
    token = re.search(r'name="token" value="([^"]+)"', text(page)).group(1)
    return client.post(
        "/invitations/accept",
        data={"token": token, "csrf_token": csrf_token(client, relative(link)), **form},
    )


def post(client, path, form_page, **form):
    return client.post(path, data={"csrf_token": csrf_token(client, form_page), **form})


# -- the host invites -----------------------------------------------------------------------------


def test_the_host_invites_from_the_dashboard_and_sees_the_link_once(app, northwind):
    """Does inviting show the link, and the dashboard the invitation waiting?"""
    client, host = northwind

    dashboard = text(client.get(f"/orgs/{host}/guest-connections"))
    response = invite(client, host)

    assert "Invite a guest" in dashboard
    assert response.status_code == 200
    assert "Send this link to cfo@alder.example" in text(response)
    link = invitation_link(response)
    assert "/invitations/accept?token=" in link
    waiting = text(client.get(f"/orgs/{host}/guest-connections"))
    assert "cfo@alder.example" in waiting and "Pending" in waiting
    assert link.split("token=")[1] not in waiting
    with app.app_context():
        invitation = db.session.scalar(db.select(GuestInvitation))
        assert invitation.owner_email == HOST_ADMIN


@pytest.mark.parametrize(("email", "days"), [("", "14"), ("not-an-email", "14")])
def test_a_bad_invitation_is_explained(northwind, email, days):
    client, host = northwind
    response = invite(client, host, email=email, days=days)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "flash--error" in page


def test_resend_gives_a_new_link_and_withdraw_hides_it(northwind):
    client, host = northwind
    first = invitation_link(invite(client, host))
    with client.application.app_context():
        invitation_id = db.session.scalar(db.select(GuestInvitation.id))
    dashboard = f"/orgs/{host}/guest-connections"

    resent = post(client, f"/orgs/{host}/invitations/{invitation_id}/resend", dashboard, days="30")
    withdrawn = post(
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


def test_inviting_twice_says_to_resend(northwind):
    client, host = northwind
    invite(client, host)
    response = invite(client, host)
    page = text(client.get(response.headers["Location"]))
    assert "resend it instead" in page


# -- the guest accepts --------------------------------------------------------------------------


def test_the_guest_accepts_for_its_organization(northwind, alder):
    """Does the link name the host, and accepting connect the guest's organization?"""
    host_client, host = northwind
    guest_client, guest = alder
    link = invitation_link(invite(host_client, host))

    page = text(guest_client.get(relative(link)))
    response = accept(guest_client, link, organization_id=str(guest))

    assert "Northwind Supplies invites you to connect" in page
    assert f'<option value="{guest}">Alder Foods</option>' in page
    assert response.headers["Location"] == f"/orgs/{guest}/hosts"
    hosts = text(guest_client.get(f"/orgs/{guest}/hosts"))
    assert "You are now connected to Northwind Supplies" in hosts
    assert "Northwind Supplies" in hosts and "Disconnect" in hosts
    detail = text(host_client.get(f"/orgs/{host}/guest-connections/{guest}"))
    assert "Alder Foods" in detail and "Request analytics" in detail
    used = text(guest_client.get(relative(link)))
    assert "already been accepted" in used


def test_the_guest_can_create_its_organization_when_accepting(
    app, northwind, oidc_provider, make_org, make_member
):
    host_client, host = northwind
    make_member(make_org("Unrelated"), "new@birch.example", role="member")
    client = app.test_client()
    sign_in_as(
        client, oidc_provider, "sub-new", {"email": "new@birch.example", "email_verified": True}
    )
    link = invitation_link(invite(host_client, host, email="new@birch.example"))

    response = accept(client, link, name="Birch Logistics", email="ops@birch.example")

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


def test_an_unknown_link_is_404_and_a_stranger_org_is_403(northwind, alder, make_org):
    host_client, host = northwind
    guest_client, _ = alder
    assert guest_client.get("/invitations/accept?token=" + "x" * 43).status_code == 404
    link = invitation_link(invite(host_client, host))
    stranger = make_org("Not Mine")
    assert accept(guest_client, link, organization_id=str(stranger)).status_code == 403


def test_accepting_needs_sign_in_and_comes_back(client, northwind, app):
    host_client, host = northwind
    link = relative(invitation_link(invite(host_client, host)))
    response = app.test_client().get(link)
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]
    assert "token" in response.headers["Location"]


# -- the loop -----------------------------------------------------------------------------------


@pytest.fixture
def connected(northwind, alder):
    host_client, host = northwind
    guest_client, guest = alder
    accept(guest_client, invitation_link(invite(host_client, host)), organization_id=str(guest))
    return host_client, host, guest_client, guest


def test_request_submit_and_the_score_shows_with_its_history(connected):
    """Does the whole analytics loop show on both sides, ending in the host's chart?"""
    host_client, host, guest_client, guest = connected
    detail = f"/orgs/{host}/guest-connections/{guest}"
    hosts = f"/orgs/{guest}/hosts"

    asked = post(host_client, f"{detail}/analytics-request", detail)
    again = post(host_client, f"{detail}/analytics-request", detail)
    refused = text(host_client.get(again.headers["Location"]))
    guest_page = text(guest_client.get(hosts))
    for score in ("61", "87.5"):
        post(guest_client, f"/orgs/{guest}/analytics", hosts, total_score=score)
    host_page = text(host_client.get(detail))

    assert asked.headers["Location"] == detail
    assert "An analytics request to this guest is already open" in refused
    assert "waiting for Alder Foods" in refused
    assert re.search(r"Northwind Supplies\s+asks you to run analytics", guest_page)
    assert "Analytics requested" in guest_page
    assert "87.5" in host_page
    assert 'class="score-chart__svg"' in host_page
    assert host_page.count('<circle class="score-chart__point') == 2
    assert host_page.count("score-chart__point--current") == 1
    assert 'score-chart__now">87.5<' in host_page
    assert "Request analytics" in host_page  # the request was answered: it can be asked again


def test_a_bad_score_is_explained(connected):
    _, _, guest_client, guest = connected
    hosts = f"/orgs/{guest}/hosts"
    for bad in ("-1", "lots", "nan", "inf", ""):
        response = post(guest_client, f"/orgs/{guest}/analytics", hosts, total_score=bad)
        assert "must be a number of 0 or more" in text(
            guest_client.get(response.headers["Location"])
        )


def test_the_guest_leaves_and_the_host_notifies(app, connected):
    """Does leaving show on the host's page, and its notification go to the outbox?"""
    host_client, host, guest_client, guest = connected
    hosts = f"/orgs/{guest}/hosts"
    detail = f"/orgs/{host}/guest-connections/{guest}"

    post(guest_client, f"/orgs/{guest}/hosts/{host}/status", hosts, status="disconnected")
    host_page = text(host_client.get(detail))
    notified = post(host_client, f"{detail}/disconnection-notification", detail)
    after = text(host_client.get(detail))
    post(guest_client, f"/orgs/{guest}/hosts/{host}/status", hosts, status="connected")

    assert "disconnected from you" in host_page
    assert "Send a disconnection notification" in host_page
    assert notified.headers["Location"] == detail
    assert "A message to finance@alder.example is on its way" in after
    assert "Reconnect" not in text(guest_client.get(hosts))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 1


def test_other_organizations_pages_are_403(northwind, alder):
    host_client, host = northwind
    _, guest = alder
    assert host_client.get(f"/orgs/{guest}/hosts").status_code == 403
    assert host_client.get(f"/orgs/{guest}/invitations").status_code == 403
    response = post(
        host_client,
        f"/orgs/{guest}/analytics",
        f"/orgs/{host}/guest-connections",
        total_score="1",
    )
    assert response.status_code == 403


def test_asking_an_unknown_guest_is_404(northwind):
    client, host = northwind
    detail = f"/orgs/{host}/guest-connections"
    response = post(client, f"{detail}/{uuid.uuid4()}/analytics-request", detail)
    assert response.status_code == 404
