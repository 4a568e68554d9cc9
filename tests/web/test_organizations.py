"""The home page: a member lands on their organization's dashboard, and can switch."""

from __future__ import annotations

from tests.web.conftest import text


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
