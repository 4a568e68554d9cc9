"""API clients in a real browser, as an owner: copy the secret, revoke; CSV export, history."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.e2e.conftest import sign_in_at_provider

pytestmark = pytest.mark.e2e

OWNER = "owner@northwind.example"


@pytest.fixture
def northwind(host, make_org, make_connection, make_member, oidc_provider):
    guests = {}
    for name in ("Alder Foods", "Birch Logistics", "Cobalt Retail"):
        guests[name] = make_org(name, f"finance@{name.split()[0].lower()}.example")
        make_connection(host, guests[name], owner_email="sales@northwind.example", score=50)
    make_member(host, OWNER, role="owner", name="Olivia Owner")
    oidc_provider.set_person(OWNER, {"email": OWNER, "email_verified": True})
    return host, guests


def sign_in(page, url: str) -> None:
    page.goto(url)
    sign_in_at_provider(page, OWNER)
    page.wait_for_url(url)


def test_api_clients_csv_and_history(page, live_server, northwind, client, artifacts):
    host, guests = northwind
    dashboard_url = f"{live_server}/orgs/{host}/guest-connections"
    sign_in(page, dashboard_url)

    # Settings → API clients, from the header; create one and copy its secret.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.get_by_role("link", name="API clients").click()
    page.wait_for_url(re.compile(r"/settings/api-clients$"))
    page.get_by_label("Name").fill("ERP integration")
    page.get_by_role("button", name="Create").click()
    page.get_by_text("it is shown only this once").wait_for()  # after the form's redirect
    secret = page.get_by_label("Client secret").input_value()
    client_id = page.get_by_label("Client id").input_value()
    # Styled boxes: the id and secret monospace (an underscore stays visible), the name like
    # every other box.
    for label in ("Client id", "Client secret"):
        font = page.get_by_label(label).evaluate("e => getComputedStyle(e).fontFamily")
        assert "monospace" in font
    assert (
        page.get_by_label("Name").evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "8px"
    )
    copy = page.locator('button[data-copy="new-client-secret"]')
    copy.wait_for(state="visible")  # the script shows it
    copy.click()
    page.get_by_text("Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=artifacts / "api-clients-created.png", full_page=True)

    token = client.post("/oauth2/token", json={"client_id": client_id, "client_secret": secret})
    assert token.status_code == 200

    # A reload neither creates a second client nor shows the secret again.
    page.reload()
    assert page.get_by_text("it is shown only this once").count() == 0
    assert page.locator("table.clients tbody tr").count() == 1

    # Revoke it, after confirming.
    page.goto(f"{live_server}/orgs/{host}/settings/api-clients")
    page.get_by_text("Revoke…").click()
    page.get_by_role("button", name="Yes, revoke").click()
    page.get_by_text("is revoked; its tokens no longer work").wait_for()
    assert page.get_by_text("No active API clients").is_visible()
    page.screenshot(path=artifacts / "api-clients-revoked.png", full_page=True)

    # Export the filtered list as CSV.
    page.goto(f"{dashboard_url}?search_text=al&order_dir=desc")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"Export all 2 as CSV")).click()
    download = download_info.value
    assert re.fullmatch(r"guest-connections-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    content = download.path().read_text(encoding="utf-8-sig")
    assert [row["guest_name"] for row in csv.DictReader(io.StringIO(content))] == [
        "Cobalt Retail",
        "Alder Foods",
    ]

    # Archive a guest; its history names the owner.
    page.goto(f"{dashboard_url}/{guests['Alder Foods']}")
    page.get_by_text("Archive…").click()
    page.get_by_role("button", name="Yes, archive").click()
    page.get_by_text("Alder Foods is archived.").wait_for()
    history = page.locator(".audit-trail__event").all_inner_texts()
    assert history[0].startswith("Archived by Olivia Owner <owner@northwind.example>")
    assert "archived: false → true" in history[0]
    page.screenshot(path=artifacts / "detail-history.png", full_page=True)

    # The settings page fits a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/orgs/{host}/settings/api-clients")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "api-clients-phone.png", full_page=True)

    assert page.csp_violations == []
