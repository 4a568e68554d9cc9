"""The home page (a member lands on their organization's own side, and can switch), and the
owner's settings: the organization's opt-in to sign-in by claim."""

from __future__ import annotations

import re

import pytest

from app.services import organizations
from app.services.audit import Actor
from tests.conftest import csrf_token, sign_in_as
from tests.web.conftest import post_form, text


def test_home_sends_a_member_to_their_dashboard(northwind):
    client, host, _ = northwind
    assert client.get("/").headers["Location"] == f"/orgs/{host}/guest-connections"


def test_member_of_two_organizations_can_switch(signed_in, host_with_guests, make_member):
    host_a, _ = host_with_guests("Host A", ("Alder Foods",))
    host_b, _ = host_with_guests("Host B", ("Birch Logistics",))
    make_member(host_b, "admin@host.example")
    client = signed_in(host_a)

    page = text(client.get(f"/orgs/{host_a}/guest-connections"))
    assert f'href="/orgs/{host_b}"' in page  # the switcher
    assert client.get(f"/orgs/{host_b}").headers["Location"] == f"/orgs/{host_b}/guest-connections"
    client.get(f"/orgs/{host_b}/guest-connections")
    assert client.get("/").headers["Location"] == f"/orgs/{host_b}/guest-connections"


# -- settings: sign-in by claim -----------------------------------------------------------------


def test_owners_link_their_organization_to_a_claim_value(app, signed_in, make_org):
    """Does the owner's settings page record the link, and show it?"""
    org = make_org("Northwind Supplies")
    client = signed_in(org, role="owner")
    page = f"/orgs/{org}/settings"
    assert f'href="{page}"' in client.get(f"/orgs/{org}/guest-connections").text

    response = post_form(
        client,
        f"{page}/sso",
        page,
        issuer="https://login.northwind.example/",
        claim_value="northwind-eu",
    )

    assert response.status_code == 302
    shown = client.get(page).text
    assert "https://login.northwind.example" in shown and "northwind-eu" in shown
    with app.app_context():
        link = organizations.get_sso_link(org)
        assert (link.issuer, link.claim_value) == (
            "https://login.northwind.example",
            "northwind-eu",
        )


@pytest.mark.parametrize(
    ("claim_value", "message"),
    [
        ("{org}", "not an organization id"),
        ("two values", "must not contain spaces or commas"),
        ("line\nbreak", "on one line"),
    ],
)
def test_a_bad_claim_value_is_explained(signed_in, make_org, claim_value, message):
    org = make_org("Northwind Supplies")
    client = signed_in(org, role="owner")
    page = f"/orgs/{org}/settings"
    response = post_form(
        client,
        f"{page}/sso",
        page,
        issuer="https://login.example.com",
        claim_value=claim_value.format(org=org),
    )
    assert response.status_code == 422
    assert message in response.text


def test_a_claim_value_belongs_to_one_organization_per_issuer(app, signed_in, make_org):
    first, second = make_org("First"), make_org("Second")
    with app.app_context():
        organizations.link_sso(first, "https://login.example.com", "acme", actor=Actor.cli())
    client = signed_in(second, role="owner")
    response = post_form(
        client,
        f"/orgs/{second}/settings/sso",
        f"/orgs/{second}/settings",
        issuer="https://login.example.com",
        claim_value="acme",
    )
    assert response.status_code == 422
    assert "Another organization already uses this claim value" in response.text


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_owners_see_and_change_the_settings(signed_in, make_org, role):
    org = make_org("Northwind Supplies")
    client = signed_in(org, role=role)
    assert f'href="/orgs/{org}/settings"' not in client.get(f"/orgs/{org}/guest-connections").text
    assert client.get(f"/orgs/{org}/settings").status_code == 403
    response = post_form(
        client,
        f"/orgs/{org}/settings/sso",
        f"/orgs/{org}/guest-connections",
        issuer="https://login.example.com",
        claim_value="acme",
    )
    assert response.status_code == 403


def tabs(response) -> list[str]:
    return re.findall(r'class="tabs__tab"[^>]*>([^<]+)</a>', text(response))


def test_each_organization_sees_only_its_own_sides(
    signed_in, make_org, make_connection, make_member
):
    """Does a pure host see no Hosts tab or score form, a pure guest land on its hosts and see
    only them, and an organization with neither a "get started" page?"""
    host, guest, new = make_org("Pure Host"), make_org("Pure Guest"), make_org("Brand New")
    make_connection(host, guest)
    make_member(guest, "admin@host.example", role="admin")
    make_member(new, "admin@host.example", role="admin")
    client = signed_in(host)

    dashboard = client.get(f"/orgs/{host}/guest-connections")
    assert tabs(dashboard) == ["Guests", "Invitations"]
    assert "Your score" not in text(client.get(f"/orgs/{host}/hosts"))

    assert client.get(f"/orgs/{guest}").headers["Location"] == f"/orgs/{guest}/hosts"
    hosts = client.get(f"/orgs/{guest}/hosts")
    assert tabs(hosts) == ["Hosts", "Analytics"]
    assert "Your score" in text(hosts)

    start = text(client.get(f"/orgs/{new}/guest-connections"))
    assert "Get started" in start and "Were you invited?" in start
    assert 'name="email"' in start  # the invite form
    assert "guests in all" not in start  # no counters of nothing


def test_sign_in_lands_in_the_last_organization_else_the_highest_role(
    client, oidc_provider, make_org, make_member
):
    """Is the first organization the one of the highest role (not the first by name), and after
    signing out and in again the one used last?"""
    alpha, beta, gamma = make_org("Alpha Foods"), make_org("Beta Trading"), make_org("Gamma Ltd")
    make_member(alpha, "pat@example.com", role="member")
    make_member(beta, "pat@example.com", role="owner")
    make_member(gamma, "pat@example.com", role="admin")
    claims = {"email": "pat@example.com", "email_verified": True}

    sign_in_as(client, oidc_provider, "sub-pat", claims)
    assert client.get("/").headers["Location"] == f"/orgs/{beta}/guest-connections"

    client.get(f"/orgs/{gamma}/guest-connections")
    client.post(
        "/sign-out", data={"csrf_token": csrf_token(client, f"/orgs/{gamma}/guest-connections")}
    )
    sign_in_as(client, oidc_provider, "sub-pat", claims)
    assert client.get("/").headers["Location"] == f"/orgs/{gamma}/guest-connections"
