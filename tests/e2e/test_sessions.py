"""Roles and sessions in a real browser: a member sees no manage controls, and a session
cookie copied before sign-out opens nothing afterwards."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import hermetic_page, sign_in_at_provider

pytestmark = pytest.mark.e2e

MEMBER = "reader@northwind.example"


@pytest.fixture
def reader(host, make_org, make_connection, make_member, oidc_provider):
    """A host with a connected and a departed guest, and a plain member known to the provider."""
    guests = {
        "Alder Foods": make_org("Alder Foods"),
        "Birch Logistics": make_org("Birch Logistics"),
    }
    make_connection(host, guests["Alder Foods"], score=87.5)
    make_connection(host, guests["Birch Logistics"], status="disconnected")
    make_member(host, MEMBER, role="member")
    oidc_provider.set_person(MEMBER, {"email": MEMBER, "email_verified": True})
    return host, guests


def test_a_member_sees_no_manage_controls(page, live_server, reader):
    host, guests = reader
    page.goto(f"{live_server}/orgs/{host}/guest-connections")
    sign_in_at_provider(page, MEMBER)
    page.wait_for_url(f"{live_server}/orgs/{host}/guest-connections")

    assert page.get_by_role("link", name="Alder Foods").is_visible()
    assert page.get_by_role("button", name="Invite").count() == 0
    assert page.get_by_role("link", name="API clients").count() == 0
    assert page.get_by_role("link", name="Settings").count() == 0
    for name in guests:
        page.goto(f"{live_server}/orgs/{host}/guest-connections/{guests[name]}")
        assert page.get_by_role("heading", name=name).is_visible()
        assert page.get_by_role("button").filter(has_text="Request analytics").count() == 0
        assert page.get_by_text("Archive…").count() == 0
        assert page.get_by_role("button").filter(has_text="notification").count() == 0
    assert page.csp_violations == []


def test_a_cookie_copied_before_sign_out_is_refused_after_it(page, browser, live_server, reader):
    host, _ = reader
    dashboard = f"{live_server}/orgs/{host}/guest-connections"
    page.goto(dashboard)
    sign_in_at_provider(page, MEMBER)
    page.wait_for_url(dashboard)
    copied = [c for c in page.context.cookies() if c["name"] == "session"]
    assert copied

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()

    with hermetic_page(browser) as thief:
        thief.context.add_cookies(copied)
        thief.goto(dashboard)
        assert "/sign-in" in thief.url
        assert thief.get_by_role("heading", name="Sign in").is_visible()
