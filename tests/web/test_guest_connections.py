"""The dashboard and detail pages: what a host admin sees, and who may see it."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import GuestConnection, SavedFilter
from tests.conftest import csrf_token, row_count, sign_in_as
from tests.web.conftest import GUESTS, post_form, text

# -- the dashboard --------------------------------------------------------------------------------


def is_archived(app, guest) -> bool:
    """Return whether the guest's connection is archived, as the database has it."""
    with app.app_context():
        return db.session.scalar(
            db.select(GuestConnection.archived).where(
                GuestConnection.guest_organization_id == guest
            )
        )


def guest_names(response) -> list[str]:
    """Return the guest names in the dashboard's table, in order."""
    return re.findall(r'class="guest-link" href="[^"]+">([^<]+)</a>', text(response))


def test_dashboard_lists_guests_with_counts(northwind, make_org, make_connection):
    client, host, guests = northwind
    group = make_org("Helios Holdings")
    scored = make_org("Delta Labs", parent=group)
    make_connection(host, scored, owner_email="credit@northwind.example", score=87.5)

    response = client.get(f"/orgs/{host}/guest-connections")

    assert response.status_code == 200
    page = text(response)
    assert guest_names(response) == [*GUESTS, "Delta Labs"]
    assert "Showing 1–4 of 4 guests" in page
    assert re.search(r'stat__number">4</span><span class="stat__label">guests in all', page)
    assert "87.5" in page and "Helios Holdings" in page
    assert 'href="mailto:credit@northwind.example"' in page
    assert "Not calculated" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("statuses=disconnected", ["Birch Logistics"]),
        ("statuses=connected&statuses=disconnected", list(GUESTS)),
        ("archived=true", ["Cobalt Retail"]),
        ("archived=false", ["Alder Foods", "Birch Logistics"]),
        ("search_text=BIRCH", ["Birch Logistics"]),
        ("search_field=guest_email&search_text=finance%40cobalt", ["Cobalt Retail"]),
        ("order_by=guest_name&order_dir=desc", list(reversed(GUESTS))),
        ("limit=1&offset=1", ["Birch Logistics"]),
        ("search_text=&archived=&statuses=", list(GUESTS)),  # an empty form field is "any"
        ("unknown=ignored", list(GUESTS)),
    ],
)
def test_dashboard_filters_sorts_and_pages_from_the_url(app, northwind, query, expected):
    client, host, guests = northwind
    with app.app_context():
        for connection in db.session.scalars(db.select(GuestConnection)):
            if connection.guest_organization_id == guests["Birch Logistics"]:
                connection.status = "disconnected"
        db.session.commit()
    client.post(
        f"/orgs/{host}/guest-connections/{guests['Cobalt Retail']}/archived",
        data={
            "archived": "true",
            "csrf_token": csrf_token(client, f"/orgs/{host}/guest-connections"),
        },
    )

    response = client.get(f"/orgs/{host}/guest-connections?{query}")

    assert response.status_code == 200
    assert guest_names(response) == expected


def test_counters_link_to_the_filters_a_credit_desk_needs(
    app, northwind, make_org, make_connection, api, token_for
):
    """Do the counters count open actions, old and low scores, link to those filters, and do
    the filters show their values in the form?"""
    client, host, guests = northwind
    low, high = make_org("Low Score Ltd"), make_org("High Score Ltd")
    make_connection(host, low, score=30)
    make_connection(host, high, score=80)
    assert api.request_analytics(token_for(host), host, high).status_code == 201
    with app.app_context():
        connection = db.session.scalar(
            db.select(GuestConnection).where(GuestConnection.guest_organization_id == low)
        )
        connection.score_updated_at = connection.score_updated_at - timedelta(days=100)
        db.session.commit()

    page = text(client.get(f"/orgs/{host}/guest-connections"))
    base = f"/orgs/{host}/guest-connections"
    for href, number, label in [
        (f"{base}?has_open_action=true", 1, "with an open action"),
        (f"{base}?score_older_than_days=90", 1, "scores older than 90 days"),
        (f"{base}?max_score=39.99", 1, "low scores (under 40)"),
    ]:
        assert re.search(
            rf'href="{re.escape(href)}"[^>]*>\s*<span class="stat__number">{number}</span>'
            rf'<span class="stat__label">{re.escape(label)}',
            page,
        ), label

    assert guest_names(client.get(f"{base}?has_open_action=true")) == ["High Score Ltd"]
    assert guest_names(client.get(f"{base}?score_older_than_days=90")) == ["Low Score Ltd"]
    filtered = client.get(f"{base}?min_score=20&max_score=39.99")
    assert guest_names(filtered) == ["Low Score Ltd"]
    assert 'id="min_score" name="min_score" type="number"' in text(filtered)
    assert re.search(r'id="max_score"[^>]*value="39.99"', text(filtered))
    assert "Filters and sort · 2 active" in text(filtered)
    refused = client.get(f"{base}?min_score=60&max_score=40")
    assert refused.status_code == 400
    assert "Highest score: Must not be less than min_score." in text(refused)


def test_saved_filters_are_tabs_of_their_own_person(app, northwind, oidc_provider, make_member):
    """Can a person save the current filters under a name, find them as a tab (current when
    the URL matches), replace and delete them, while another person sees none of them?"""
    client, host, _ = northwind
    dashboard = f"/orgs/{host}/guest-connections"
    query = "statuses=connected&search_text=alder&order_by=total_score&order_dir=desc&offset=0"

    saved = post_form(
        client,
        f"{dashboard}/saved-filters",
        f"{dashboard}?{query}",
        name=" Alder  first ",
        query=query,
    )

    assert saved.status_code == 303
    assert saved.headers["Location"] == (
        f"{dashboard}?statuses=connected&search_text=alder&order_by=total_score&order_dir=desc"
    )
    page = text(client.get(saved.headers["Location"]))
    assert re.search(
        r'class="saved-filters__tab" href="[^"]+" aria-current="page">Alder first<', page
    )
    assert "Saved as “Alder first”" in page
    assert re.search(
        r'class="saved-filters__tab" href="[^"]+">Alder first<', text(client.get(dashboard))
    )

    # The same name again replaces its filters; an empty name is refused with a message.
    post_form(
        client, f"{dashboard}/saved-filters", dashboard, name="Alder first", query="archived=true"
    )
    assert f'href="{dashboard}?archived=true">Alder first<' in text(client.get(dashboard))
    refused = post_form(client, f"{dashboard}/saved-filters", dashboard, name="  ", query="")
    assert "Give the filter a name" in text(client.get(refused.headers["Location"]))

    # Another person of the same organization has tabs of their own, and cannot delete these.
    other = app.test_client()
    colleague = "colleague@northwind.example"
    make_member(host, colleague, role="admin")
    sign_in_as(
        other, oidc_provider, f"sub-{colleague}", {"email": colleague, "email_verified": True}
    )
    assert "Alder first" not in text(other.get(dashboard))
    with app.app_context():
        [(filter_id,)] = db.session.execute(db.select(SavedFilter.id)).all()
    assert (
        post_form(other, f"{dashboard}/saved-filters/{filter_id}/delete", dashboard).status_code
        == 404
    )
    deleted = post_form(client, f"{dashboard}/saved-filters/{filter_id}/delete", dashboard)
    assert deleted.status_code == 303
    assert "saved-filters__tab" not in text(client.get(dashboard))
    assert row_count(app, SavedFilter) == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "Rows per page"),
        ("limit=lots", "Rows per page"),
        ("offset=-1", "Page"),
        ("statuses=asleep", "Status"),
        ("archived=maybe", "Archived"),
        ("order_by=shoe_size", "Sort by"),
        ("parent_organization_id=nope", "Parent organization"),
        ("search_text=" + "x" * 300, "Search"),
    ],
)
def test_bad_url_values_show_a_friendly_message(northwind, query, message):
    """Is a bad value in a bookmarked URL explained on the page, never a 500?"""
    client, host, _ = northwind
    response = client.get(f"/orgs/{host}/guest-connections?{query}")
    assert response.status_code == 400
    page = text(response)
    assert "Some filters in this address are not valid" in page
    assert f"<li>{message}:" in page
    assert guest_names(response) == []


def test_parent_filter_names_the_parent(northwind, make_org, make_connection):
    client, host, _ = northwind
    group = make_org("Helios Holdings")
    make_connection(host, make_org("Delta Labs", parent=group))

    response = client.get(f"/orgs/{host}/guest-connections?parent_organization_id={group}")

    assert guest_names(response) == ["Delta Labs"]
    assert re.search(r"parent organization is\s+<strong>Helios Holdings</strong>", text(response))


def test_filters_keep_their_values_in_links(northwind):
    """Do sort headers and pages keep the current filters (bookmarkable state)?"""
    client, host, _ = northwind
    page = text(client.get(f"/orgs/{host}/guest-connections?search_text=o&limit=1"))
    assert (
        f'href="/orgs/{host}/guest-connections?search_text=o&amp;limit=1&amp;offset=1" rel="next"'
        in page
    )
    assert "order_by=total_score&amp;order_dir=asc" in page
    assert 'value="o"' in page


def test_no_match_and_no_guests_have_helpful_empty_states(northwind, make_member, make_org):
    client, host, _ = northwind
    assert "No guests match these filters" in text(
        client.get(f"/orgs/{host}/guest-connections?search_text=zzz")
    )
    lonely = make_org("Lonely Host")
    make_member(lonely, "admin@host.example")
    assert "Get started" in text(client.get(f"/orgs/{lonely}/guest-connections"))


# -- the detail page and its actions --------------------------------------------------------------


def test_detail_shows_the_connection(northwind, make_org, make_connection):
    client, host, guests = northwind
    group = make_org("Helios Holdings", "group@helios.example")
    make_connection(host, group)  # the parent is a guest of this host too
    guest = make_org("Delta Labs", "finance@delta.example", parent=group)
    make_connection(host, guest, owner_email="credit@northwind.example", score=87.5)
    sister = make_org("Ember Foods", parent=group)
    make_connection(host, sister)

    response = client.get(f"/orgs/{host}/guest-connections/{guest}")

    assert response.status_code == 200
    page = text(response)
    assert "<h1>Delta Labs</h1>" in page
    assert "badge--connected" in page
    assert 'gauge__number">87.5</span>' in page and 'aria-label="Score 87.5 of 100: high"' in page
    assert f'href="/orgs/{host}/guest-connections/{group}">Helios Holdings</a>' in page
    assert str(group) in page
    assert f'href="/orgs/{host}/guest-connections/{sister}">Ember Foods</a>' in page
    assert 'href="mailto:credit@northwind.example"' in page
    assert f"Requester-Organization-ID: {host}" in page
    assert f"http://localhost/v1/guest-connections/{guest}" in page
    assert "Not archived" in page
    assert "87.5 / 100 · manual (command line), without an analytics run" in page


def test_a_connection_with_no_owner_shows_so(northwind, make_org, make_connection):
    """Do the pages handle a connection whose host named no owner (owner_email null)?"""
    client, host, _ = northwind
    guest = make_org("Zephyr Trading")
    make_connection(host, guest, owner_email=None)

    dashboard = text(client.get(f"/orgs/{host}/guest-connections?search_text=zephyr"))
    detail = text(client.get(f"/orgs/{host}/guest-connections/{guest}"))

    assert "Zephyr Trading" in dashboard and "mailto:None" not in dashboard
    assert "Nobody named" in detail and "mailto:None" not in detail


def test_a_score_reads_the_same_on_the_dashboard_detail_and_change_list(
    northwind, make_org, make_connection
):
    client, host, _ = northwind
    guest = make_org("Delta Labs")
    make_connection(host, guest, score=55.55)

    dashboard = text(client.get(f"/orgs/{host}/guest-connections"))
    detail = text(client.get(f"/orgs/{host}/guest-connections/{guest}"))

    assert 'score__number">55.55<' in dashboard
    assert 'gauge__number">55.55<' in detail
    assert "total_score: null → 55.55" in detail
    assert "55.5<" not in dashboard + detail


def test_detail_without_score_or_parent(northwind):
    client, host, guests = northwind
    page = text(client.get(f"/orgs/{host}/guest-connections/{guests['Alder Foods']}"))
    assert "Not calculated yet" in page
    assert "No parent organization is known" in page
    assert "No open action" in page


def test_unknown_guest_and_malformed_ids_are_404_pages(northwind):
    client, host, _ = northwind
    unknown = client.get(f"/orgs/{host}/guest-connections/{uuid.uuid4()}")
    malformed = client.get(f"/orgs/{host}/guest-connections/not-a-uuid")
    assert unknown.status_code == 404 and malformed.status_code == 404
    assert "no guest connection with that guest organization" in text(unknown)
    assert 'class="site-header"' in text(unknown)  # in the site's layout


def test_archive_from_the_page_shows_in_the_api_at_once(northwind, api, token_for):
    client, host, guests = northwind
    guest = guests["Alder Foods"]
    detail = f"/orgs/{host}/guest-connections/{guest}"

    response = client.post(
        f"{detail}/archived", data={"archived": "true", "csrf_token": csrf_token(client, detail)}
    )

    assert response.status_code == 302 and response.headers["Location"] == detail
    page = text(client.get(detail))
    assert "Alder Foods is archived." in page
    assert "Unarchive…" in page
    body = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host).json
    assert body["archived"] is True and body["archived_at"]

    client.post(
        f"{detail}/archived", data={"archived": "false", "csrf_token": csrf_token(client, detail)}
    )
    assert "Alder Foods is no longer archived." in text(client.get(detail))


def test_archive_without_csrf_token_is_400_and_changes_nothing(app, northwind):
    client, host, guests = northwind
    guest = guests["Alder Foods"]
    response = client.post(
        f"/orgs/{host}/guest-connections/{guest}/archived", data={"archived": "true"}
    )
    assert response.status_code == 400
    assert is_archived(app, guest) is False


def test_asking_an_unknown_guest_is_404(host_admin):
    client, host = host_admin
    detail = f"/orgs/{host}/guest-connections"
    response = post_form(client, f"{detail}/{uuid.uuid4()}/analytics-request", detail)
    assert response.status_code == 404


# -- who may see it, and how ----------------------------------------------------------------------


def test_member_of_one_host_cannot_open_another_hosts_pages(app, signed_in, host_with_guests):
    """Is a member of host A refused on host B's dashboard, detail and archive, as designed?"""
    host_a, _ = host_with_guests("Host A", ("Alder Foods",))
    host_b, b_guests = host_with_guests("Host B", ("Birch Logistics",))
    client = signed_in(host_a)
    guest = b_guests["Birch Logistics"]

    for path in (f"/orgs/{host_b}/guest-connections", f"/orgs/{host_b}/guest-connections/{guest}"):
        response = client.get(path)
        assert response.status_code == 403
        assert "not a member of this organization" in text(response)
    archive = client.post(
        f"/orgs/{host_b}/guest-connections/{guest}/archived",
        data={
            "archived": "true",
            "csrf_token": csrf_token(client, f"/orgs/{host_a}/guest-connections"),
        },
    )
    assert archive.status_code == 403
    assert is_archived(app, guest) is False


def test_every_page_carries_the_security_headers(northwind, client):
    client, host, _ = northwind
    for path in ("/sign-in", f"/orgs/{host}/guest-connections", "/docs", "/v1/openapi.json"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(northwind):
    client, host, guests = northwind
    for path in (
        "/sign-in",
        f"/orgs/{host}/guest-connections",
        f"/orgs/{host}/guest-connections/{guests['Alder Foods']}",
    ):
        page = text(client.get(path))
        assert "<script>" not in page and "<style" not in page and " style=" not in page


def test_pages_run_a_few_queries_whatever_the_page_size(
    northwind, count_queries, make_org, make_connection
):
    """Do the dashboard and detail pages stay within a fixed number of queries (no N+1)?"""
    client, host, guests = northwind
    group = make_org("Helios Holdings")
    subsidiaries = [make_org(f"Guest {number:02d}", parent=group) for number in range(30)]
    for number, subsidiary in enumerate(subsidiaries):
        make_connection(host, subsidiary, score=number)
    detail = f"/orgs/{host}/guest-connections/{guests['Alder Foods']}"
    with count_queries() as dashboard_statements:
        assert client.get(f"/orgs/{host}/guest-connections?limit=100").status_code == 200
    with count_queries() as detail_statements:
        assert client.get(detail).status_code == 200
    with count_queries() as parented_statements:
        assert client.get(f"/orgs/{host}/guest-connections/{subsidiaries[0]}").status_code == 200
    # Dashboard: + the open invitations (count, page), the organization's sides (its tabs) and
    # the person's saved filters; detail: the connection with its history and scores (one
    # statement), then its parent's other subsidiaries. Besides, the server-side session, read
    # with the signed-in person: one read per page, a write at most once a minute.
    dashboard_own = [sql for sql in dashboard_statements if "browser_sessions" not in sql]
    detail_own = [sql for sql in detail_statements if "browser_sessions" not in sql]
    assert len(dashboard_own) <= 7, dashboard_own
    assert len(detail_own) <= 1, detail_own  # no parent
    parented_own = [sql for sql in parented_statements if "browser_sessions" not in sql]
    assert len(parented_own) <= 2, parented_own
    assert len(detail_statements) - len(detail_own) == 1  # the read; written a moment ago


# -- many guests at once --------------------------------------------------------------------------


def test_bulk_archive_from_the_dashboard_confirms_then_reports(app, northwind):
    """Does ticking guests and choosing Archive ask for confirmation with the count, then do it
    once (a reload repeats nothing), saying which were skipped and why?"""
    client, host, guests = northwind
    dashboard = f"/orgs/{host}/guest-connections"
    page = text(client.get(dashboard))
    assert 'form="bulk-form" aria-label="Select Alder Foods"' in page
    ids = [guests["Alder Foods"], guests["Birch Logistics"]]
    client.post(
        f"{dashboard}/{guests['Birch Logistics']}/archived",
        data={"archived": "true", "csrf_token": csrf_token(client, dashboard)},
    )

    confirm = client.get(
        f"{dashboard}/bulk",
        query_string={"action": "archive", "guest_organization_ids": ids, "query": "search_text=a"},
    )
    assert confirm.status_code == 200
    assert "Archive 2 guests?" in text(confirm)
    assert "<li>Alder Foods</li>" in text(confirm)
    assert not is_archived(app, guests["Alder Foods"])  # nothing happens before confirming

    done = post_form(
        client,
        f"{dashboard}/bulk",
        dashboard,
        action="archive",
        guest_organization_ids=[str(i) for i in ids],
        query="search_text=a",
    )
    assert done.status_code == 303
    result = text(client.get(done.headers["Location"]))
    assert "Archive: 1 done, 1 skipped" in result
    assert "Already archived." in result and "Birch Logistics" in result
    assert f'href="{dashboard}?search_text=a"' in result  # back to the same filters
    assert is_archived(app, guests["Alder Foods"])
    assert client.get(done.headers["Location"]).status_code == 302  # a reload shows it no more


def test_bulk_on_all_guests_matching_the_filter(app, northwind):
    client, host, guests = northwind
    dashboard = f"/orgs/{host}/guest-connections"
    args = {"action": "archive", "all_matching": "true", "query": "search_text=i"}

    confirm = text(client.get(f"{dashboard}/bulk", query_string=args))
    assert "Archive 2 guests?" in confirm  # Birch Logistics, Cobalt Retail
    assert "Every guest matching your filters" in confirm
    done = post_form(client, f"{dashboard}/bulk", dashboard, **args)
    assert "Archive: 2 done" in text(client.get(done.headers["Location"]))
    assert [is_archived(app, guests[name]) for name in GUESTS] == [False, True, True]


def test_bulk_without_a_selection_says_so(northwind):
    client, host, _ = northwind
    dashboard = f"/orgs/{host}/guest-connections"
    response = client.get(f"{dashboard}/bulk", query_string={"action": "archive"})
    assert response.status_code == 302
    assert "Select at least one guest" in text(client.get(response.headers["Location"]))


def test_members_see_no_bulk_selection_and_cannot_use_it(signed_in, host_with_guests):
    host, guests = host_with_guests("Host A", ("Alder Foods",))
    client = signed_in(host, "reader@host.example", role="member")
    dashboard = f"/orgs/{host}/guest-connections"
    assert "bulk-form" not in text(client.get(dashboard))
    args = {"action": "archive", "guest_organization_ids": [str(guests["Alder Foods"])]}
    assert client.get(f"{dashboard}/bulk", query_string=args).status_code == 403
