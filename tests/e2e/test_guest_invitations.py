"""Guest invitations in a real browser, as two people: invite, accept, ask, run, see."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import hermetic_page, sign_in_at_provider

pytestmark = pytest.mark.e2e

HOST_ADMIN = "admin@northwind.example"
GUEST_ADMIN = "cfo@alder.example"


@pytest.fixture
def people(host, guest, make_member, oidc_provider):
    """The host and the guest organization, each with an admin known to the provider."""
    make_member(host, HOST_ADMIN, role="owner", name="Nora Admin")
    make_member(guest, GUEST_ADMIN, role="admin", name="Carl Finance")
    for email in (HOST_ADMIN, GUEST_ADMIN):
        oidc_provider.set_person(email, {"email": email, "email_verified": True})
    return host, guest


@pytest.fixture
def guest_page(browser):
    """A second browser, for the guest: its own cookies, the same hermetic routing."""
    with hermetic_page(browser) as page:
        yield page


def test_invite_accept_request_run_and_see_the_score(
    page, guest_page, live_server, people, artifacts
):
    host, guest = people
    dashboard = f"{live_server}/orgs/{host}/guest-connections"
    detail = f"{dashboard}/{guest}"
    hosts = f"{live_server}/orgs/{guest}/hosts"
    analytics = f"{live_server}/orgs/{guest}/analytics"

    # The host invites from the dashboard and copies the link shown once.
    page.goto(dashboard)
    sign_in_at_provider(page, HOST_ADMIN)
    page.wait_for_url(dashboard)
    # A host with no guests yet is shown how to begin.
    assert page.get_by_role("heading", name="Get started").is_visible()
    page.get_by_label("E-mail of the guest to invite").fill(GUEST_ADMIN)
    page.get_by_role("button", name="Invite", exact=True).click()
    # The form redirects (Post/Redirect/Get): wait for the page it leads to.
    page.get_by_role("heading", name=f"Send this link to {GUEST_ADMIN}").wait_for()
    link = page.get_by_label("Invitation link").input_value()
    assert link.startswith(f"{live_server}/invitations/accept?token=")
    page.get_by_role("button", name="Copy").wait_for()  # shown by its script
    page.screenshot(path=artifacts / "lifecycle-invitation.png", full_page=True)
    # A reload does not invite again: the link was shown once.
    page.reload()
    page.get_by_text("An invitation link is shown only once").wait_for()
    assert page.get_by_label("Invitation link").count() == 0
    # The 14-day link reads "in 2 weeks", with its date beside it.
    page.goto(dashboard)
    expires = page.locator("table.invitations td[data-label=Expires]").inner_text()
    assert re.fullmatch(r"in 2 weeks\s+\d{1,2} \w{3} \d{4}", expires.strip()), expires

    # The guest opens the link, signs in, and accepts for its organization.
    guest_page.goto(link)
    sign_in_at_provider(guest_page, GUEST_ADMIN)
    guest_page.wait_for_url(re.compile(r"/invitations/accept\?token="))
    heading = guest_page.get_by_role("heading", name="Northwind Supplies invites you to connect")
    assert heading.is_visible()
    guest_page.get_by_role("button", name="Accept for this organization").click()
    guest_page.wait_for_url(hosts)
    # A pure guest sees its own side only: no Guests or Invitations tab.
    assert guest_page.locator(".tabs__tab").all_inner_texts() == ["Hosts", "Analytics"]
    assert guest_page.get_by_text("You are now connected to Northwind Supplies.").is_visible()

    # The host sees the new guest and asks it to run analytics.
    page.goto(detail)
    assert page.get_by_role("heading", name="Alder Foods", level=1).is_visible()
    page.get_by_role("button", name="Request analytics").click()
    page.wait_for_url(detail)
    assert page.get_by_text("Analytics requested: the guest sees the request").is_visible()

    # The guest sees the request, adds a statement and starts a run.
    guest_page.goto(hosts)
    assert guest_page.get_by_text("Northwind Supplies asks you to run analytics.").is_visible()
    guest_page.get_by_role("link", name="Add a statement and start a run").click()
    guest_page.wait_for_url(analytics)
    figures = {
        "Period end": "2025-12-31",
        "Total assets": "1000",
        "Total liabilities": "500",
        "Current assets": "400",
        "Current liabilities": "200",
        "Retained earnings": "300",
        "EBIT": "150",
        "Equity (book value)": "500",
    }
    for label, value in figures.items():
        guest_page.get_by_label(label, exact=True).fill(value)
    guest_page.get_by_role("button", name="Add the statement").click()
    guest_page.wait_for_url(analytics)
    assert guest_page.get_by_text("The statement to 31 Dec 2025 is recorded").is_visible()
    guest_page.get_by_role("button", name="Start a run").click()
    guest_page.wait_for_url(analytics)
    assert guest_page.get_by_text("The run succeeded: your score is 87.48").is_visible()
    guest_page.screenshot(path=artifacts / "lifecycle-analytics.png", full_page=True)

    # The host sees the score, its history, and can ask again.
    page.goto(detail)
    assert page.get_by_role("img", name=re.compile(r"Score 87\.48 of 100")).is_visible()
    assert page.get_by_role("img", name="Total score over time").is_visible()
    assert page.locator(".score-chart__now").inner_text() == "87.48"
    assert page.get_by_text(
        re.compile(r"Altman Z″ 4\.35, safe zone · statements to 31 Dec 2025")
    ).is_visible()
    assert page.get_by_role("button", name="Request analytics").is_visible()
    page.screenshot(path=artifacts / "lifecycle-detail.png", full_page=True)

    assert page.csp_violations == [] and guest_page.csp_violations == []
