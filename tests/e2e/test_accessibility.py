"""Accessibility, checked by a machine: axe-core on every kind of page, at desktop and phone
widths, finds nothing serious or critical."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import DESKTOP, PHONE, sign_in_at_provider

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"
GRAVE = {"serious", "critical"}


def grave_violations(page) -> list[str]:
    """Return axe-core's serious and critical violations on the page, one line each."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in GRAVE
    ]


def test_no_serious_or_critical_violations_on_any_page(
    page,
    live_server,
    host,
    make_org,
    make_connection,
    make_member,
    oidc_provider,
    api,
    token_for,
    artifacts,
):
    guest = make_org("Alder Foods", "finance@alder.example")
    make_connection(host, guest, owner_email="sales@northwind.example", score=72.5)
    other = make_org("Birch Logistics", "finance@birch.example")
    make_connection(host, other, owner_email="sales@northwind.example", status="disconnected")
    make_member(host, ADMIN, role="owner", name="Nora Admin")
    make_member(guest, ADMIN, role="admin")
    oidc_provider.set_person(ADMIN, {"email": ADMIN, "email_verified": True})
    invitation = api.invite(token_for(host), host, email="new@cedar.example").json
    dashboard = f"/orgs/{host}/guest-connections"

    page.goto(live_server + "/sign-in")
    problems = {"sign-in": grave_violations(page)}
    sign_in_at_provider(page, ADMIN)
    page.wait_for_url(re.compile(r"/orgs/"))

    pages = {
        "dashboard": dashboard,
        "detail": f"{dashboard}/{guest}",
        "invitations": f"/orgs/{host}/invitations",
        "api clients": f"/orgs/{host}/settings/api-clients",
        "bulk confirmation": f"{dashboard}/bulk?action=archive&guest_organization_ids={guest}",
        "guest's hosts": f"/orgs/{guest}/hosts",
        "invitation to accept": "/invitations/"
        + invitation["invitation_url"].split("/invitations/", 1)[1],
    }
    for width, viewport in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            page.goto(live_server + path)
            problems[f"{name} at {width} px"] = grave_violations(page)
            shot = f"page-{name.replace(' ', '-').replace(chr(39), '')}-{width}.png"
            page.screenshot(path=artifacts / shot, full_page=True)
    assert {name: found for name, found in problems.items() if found} == {}
