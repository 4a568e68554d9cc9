"""The home page (a member lands on their organization's dashboard, and can switch), and the
owner's settings: the organization's opt-in to sign-in by claim."""

from __future__ import annotations

import pytest

from app.services import organizations
from app.services.audit import Actor
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
    assert f'href="/orgs/{host_b}/guest-connections"' in page  # the switcher
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
