"""Guest connections in a real browser: sign in, find guests, open one, archive it, sign out."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, overflowing, sign_in_at_provider, tab_to

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"


@pytest.fixture
def northwind(host, make_org, make_connection, make_member, oidc_provider):
    """A host with a handful of guests, an admin, and the admin known to the provider."""
    group = make_org("Helios Holdings", "group@helios.example")
    make_connection(host, group, owner_email="credit@northwind.example", score=91)
    guests = {}
    for name, status, score, parent in [
        ("Alder Foods", "connected", 87.5, group),
        ("Birch Logistics", "disconnected", 34.0, None),
        ("Cobalt Retail", "connected", None, None),
        ("Delta Labs", "connected", 58.2, group),
    ]:
        guests[name] = make_org(name, f"finance@{name.split()[0].lower()}.example")
        make_connection(
            host,
            guests[name],
            owner_email="sales@northwind.example",
            status=status,
            score=score,
            parent=parent,
        )
    make_member(host, ADMIN, role="owner", name="Nora Admin")
    oidc_provider.set_person(ADMIN, {"email": ADMIN, "email_verified": True})
    return host, guests


def guest_rows(page) -> list[str]:
    return page.locator("a.guest-link").all_inner_texts()


def _back_and_forward_without_script(browser, page, dashboard_url: str) -> None:
    """Without JavaScript too, Back shows the form of the URL, not the values typed."""
    context = browser.new_context(
        java_script_enabled=False, storage_state=page.context.storage_state()
    )
    try:
        nojs = context.new_page()
        nojs.goto(f"{dashboard_url}?statuses=disconnected")
        nojs.get_by_label("Search", exact=True).fill("birch")
        nojs.get_by_label("Connected", exact=True).check()
        nojs.get_by_role("button", name="Apply").click()
        nojs.wait_for_url(re.compile(r"search_text=birch"))
        nojs.go_back()
        assert nojs.get_by_label("Search", exact=True).input_value() == ""
        assert not nojs.get_by_label("Connected", exact=True).is_checked()
    finally:
        context.close()


def test_host_admin_journey(page, browser, live_server, northwind, api, token_for, artifacts):
    host, guests = northwind
    dashboard_url = f"{live_server}/orgs/{host}/guest-connections"

    # Sign in: the home page leads through the provider to the dashboard.
    page.goto(live_server + "/")
    assert page.get_by_role("heading", name="Sign in").is_visible()
    sign_in_at_provider(page, ADMIN)
    page.wait_for_url(dashboard_url)
    assert page.get_by_role("heading", name="Guest connections").is_visible()
    assert guest_rows(page) == [
        "Alder Foods",
        "Birch Logistics",
        "Cobalt Retail",
        "Delta Labs",
        "Helios Holdings",
    ]
    page.screenshot(path=artifacts / "dashboard.png", full_page=True)

    # Filter by status, then search: the state is in the URL.
    page.get_by_label("Connected", exact=True).uncheck()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"statuses=disconnected"))
    assert guest_rows(page) == ["Birch Logistics"]
    page.get_by_label("Connected", exact=True).check()
    page.get_by_label("Search", exact=True).fill("alder")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"search_text=alder"))
    assert guest_rows(page) == ["Alder Foods"]

    # Back and Forward: the form always shows the URL's filters, not what was typed last.
    page.go_back()
    assert "search_text=alder" not in page.url
    assert guest_rows(page) == ["Birch Logistics"]
    assert not page.get_by_label("Connected", exact=True).is_checked()
    assert page.get_by_label("Search", exact=True).input_value() == ""
    page.go_forward()
    assert "search_text=alder" in page.url
    assert page.get_by_label("Connected", exact=True).is_checked()
    assert page.get_by_label("Search", exact=True).input_value() == "alder"
    _back_and_forward_without_script(browser, page, dashboard_url)

    # Open the detail page.
    page.get_by_role("link", name="Alder Foods").click()
    detail_url = f"{dashboard_url}/{guests['Alder Foods']}"
    page.wait_for_url(detail_url)
    assert page.get_by_role("heading", name="Alder Foods", level=1).is_visible()
    assert page.get_by_role("img", name=re.compile(r"Score 87\.5 of 100")).is_visible()
    assert page.get_by_role("link", name="Helios Holdings").is_visible()  # parent, also a guest
    assert page.get_by_role("link", name="Delta Labs").is_visible()  # its other subsidiary
    page.screenshot(path=artifacts / "detail.png", full_page=True)

    # Archive, confirm, and see it here and in the API.
    page.get_by_text("Archive…").click()
    page.get_by_role("button", name="Yes, archive").click()
    page.wait_for_url(detail_url)
    assert page.get_by_text("Alder Foods is archived.").is_visible()
    assert page.get_by_text("Unarchive…").is_visible()
    body = api.get(
        f"/v1/guest-connections/{guests['Alder Foods']}", token=token_for(host), requester=host
    ).json
    assert body["archived"] is True

    # Sign out, here and at the provider.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile(r"/signed-out"))
    assert page.get_by_role("heading", name="You are signed out").is_visible()

    # A bookmarked detail page, signed out: through sign-in and back onto it.
    page.goto(detail_url)
    assert page.get_by_role("heading", name="Sign in").is_visible()
    sign_in_at_provider(page, ADMIN)
    page.wait_for_url(detail_url)
    assert page.get_by_role("heading", name="Alder Foods", level=1).is_visible()

    assert page.csp_violations == []


def test_phone_layout_and_api_reference(page, live_server, northwind, artifacts):
    """Do the pages fit a phone, and does /docs render within the CSP?"""
    host, guests = northwind
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/orgs/{host}/guest-connections")
    sign_in_at_provider(page, ADMIN)
    page.wait_for_url(re.compile(r"/guest-connections$"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard is {width}px wide on a 390px screen"
    # The guests come first: the first one is on the first screen; filters and the invite
    # form wait behind their toggles.
    assert page.locator("a.guest-link").first.bounding_box()["y"] < 844
    assert not page.get_by_label("Search", exact=True).is_visible()
    assert not page.get_by_label("E-mail of the guest to invite").is_visible()
    page.screenshot(path=artifacts / "dashboard-phone.png", full_page=True)
    page.get_by_text("Filters and sort").click()
    assert page.get_by_label("Search", exact=True).is_visible()
    page.get_by_text("Invite a guest").first.click()
    assert page.get_by_label("E-mail of the guest to invite").is_visible()
    assert overflowing(page) == []
    page.screenshot(path=artifacts / "dashboard-phone-open.png", full_page=True)

    page.goto(f"{live_server}/orgs/{host}/guest-connections/{guests['Alder Foods']}")
    assert overflowing(page) == []
    # The score chart keeps labels of 11 px or more, and fewer of them.
    ticks = page.locator(".score-chart__svg--compact .score-chart__tick")
    assert page.locator(".score-chart__svg--compact").is_visible()
    assert not page.locator(".score-chart__svg:not(.score-chart__svg--compact)").is_visible()
    heights = [tick.bounding_box()["height"] for tick in ticks.all()]
    assert heights and min(heights) >= 11, heights
    assert ticks.count() <= 5
    page.screenshot(path=artifacts / "detail-phone.png", full_page=True)

    page.goto(f"{live_server}/docs")
    page.get_by_text("/v1/guest-connections/{guest_org_id}").first.wait_for()
    assert page.csp_violations == []
    # /docs has the favicon and leads back to the app.
    favicon = page.locator('link[rel="icon"]').get_attribute("href")
    assert page.request.get(live_server + favicon).status == 200
    back = page.get_by_role("link", name="Back to Guest Connections")
    assert back.get_attribute("href") == "/"
    # Followed outside the page, so Swagger UI is not torn down mid-request.
    home = page.request.get(live_server + "/")
    assert home.status == 200 and home.url.endswith("/guest-connections")


LONG_NAME = "The Very Long Name International Trading and Logistics Company of Greater Example " * 2
LONG_OWNER = "relationship.manager.for.very.long.accounts@sales.northwind.example"  # 65
LONG_EMAIL = "accounts.payable.department.for.long.names@finance.verylongname.example"


def test_long_names_and_emails_fit_at_both_widths(
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
    """Do long names and e-mails wrap inside the tables and cards, at 1280 and 390 px?"""
    long_guest = make_org(LONG_NAME.strip(), LONG_EMAIL)
    make_connection(host, long_guest, owner_email=LONG_OWNER, score=55.55)
    invited = api.invite(token_for(host), host, email="x" + LONG_EMAIL[1:].replace("finance", "ap"))
    assert invited.status_code == 201, invited.json
    make_member(host, ADMIN, role="owner", name="Nora Admin")
    make_member(long_guest, ADMIN, role="admin")
    oidc_provider.set_person(ADMIN, {"email": ADMIN, "email_verified": True})
    pages = {
        "dashboard": f"/orgs/{host}/guest-connections",
        "detail": f"/orgs/{host}/guest-connections/{long_guest}",
        "invitations": f"/orgs/{host}/invitations",
        "hosts": f"/orgs/{long_guest}/hosts",
    }
    page.goto(live_server + pages["dashboard"])
    sign_in_at_provider(page, ADMIN)
    page.wait_for_url(re.compile(r"/guest-connections$"))
    for width, viewport in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            page.goto(live_server + path)
            assert overflowing(page) == [], f"{name} at {width} px"
            if name in ("dashboard", "detail"):
                assert page.get_by_text("55.55").first.is_visible()  # one score format
            page.screenshot(path=artifacts / f"long-{name}-{width}.png", full_page=True)


def test_credit_desk_filters_saved_tabs_and_bulk_from_the_keyboard(
    page, live_server, northwind, api, token_for, artifacts
):
    """Keyboard alone: follow a counter to its filter, set a score range, save it as a tab,
    select guests and archive them through the confirmation, and confirm a dialog."""
    host, guests = northwind
    dashboard_url = f"{live_server}/orgs/{host}/guest-connections"
    assert api.request_analytics(token_for(host), host, guests["Delta Labs"]).status_code == 201
    page.goto(dashboard_url)
    sign_in_at_provider(page, ADMIN)
    page.wait_for_url(dashboard_url)

    # A counter is a link to its filter.
    tab_to(page, 'a.stat[href*="has_open_action=true"]')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"has_open_action=true"))
    assert guest_rows(page) == ["Delta Labs"]

    # A score range, typed in the form.
    page.goto(dashboard_url)
    tab_to(page, "#min_score")
    page.keyboard.type("50")
    tab_to(page, "#max_score")
    page.keyboard.type("90")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"min_score=50&max_score=90"))
    assert guest_rows(page) == ["Alder Foods", "Delta Labs"]

    # Saved under a name, it becomes a tab, current here and one click away elsewhere.
    tab_to(page, "#saved-filter-name")
    page.keyboard.type("Middle scores")
    page.keyboard.press("Enter")
    page.get_by_text("Saved as “Middle scores”").wait_for()
    assert page.locator('.saved-filters__tab[aria-current="page"]').inner_text() == "Middle scores"
    page.goto(dashboard_url)
    page.get_by_role("link", name="Middle scores").click()
    page.wait_for_url(re.compile(r"min_score=50"))
    assert guest_rows(page) == ["Alder Foods", "Delta Labs"]
    page.screenshot(path=artifacts / "dashboard-saved-filter.png", full_page=True)

    # Select both (the script's "all on this page" box ticks every row), archive them: a
    # confirmation with the count, then the result.
    tab_to(page, "#select-page")
    page.keyboard.press("Space")
    assert page.locator("td.select input:checked").count() == 2
    page.keyboard.press("Space")
    tab_to(page, 'input[aria-label="Select Alder Foods"]')
    page.keyboard.press("Space")
    assert page.evaluate("document.getElementById('select-page').indeterminate")
    tab_to(page, 'input[aria-label="Select Delta Labs"]')
    page.keyboard.press("Space")
    assert page.locator("#select-page").is_checked()
    tab_to(page, "#bulk-action")  # "Archive" is the first choice
    tab_to(page, "#bulk-form button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Archive 2 guests?").wait_for()
    page.screenshot(path=artifacts / "bulk-confirm.png", full_page=True)
    tab_to(page, "form button[type=submit]:not(.button--ghost.button--small)")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Archive: 2 done").wait_for()
    page.screenshot(path=artifacts / "bulk-result.png", full_page=True)
    tab_to(page, "a.button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"min_score=50"))
    assert page.locator("tr.is-archived").count() == 2

    # A dialog (<details>) opens, confirms and closes from the keyboard.
    page.goto(f"{dashboard_url}/{guests['Alder Foods']}")
    tab_to(page, "summary.button")
    page.keyboard.press("Enter")
    tab_to(page, ".confirm__panel button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_text("Alder Foods is no longer archived.").wait_for()
    assert page.csp_violations == []
