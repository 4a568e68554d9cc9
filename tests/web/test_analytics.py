"""The analytics loop in the browser: the host asks, the guest submits, the chart shows it."""

from __future__ import annotations

import re

from tests.web.conftest import post_form, text


def test_request_submit_and_the_score_shows_with_its_history(connected):
    """Does the whole analytics loop show on both sides, ending in the host's chart?"""
    host_client, host, guest_client, guest = connected
    detail = f"/orgs/{host}/guest-connections/{guest}"
    hosts = f"/orgs/{guest}/hosts"

    asked = post_form(host_client, f"{detail}/analytics-request", detail)
    again = post_form(host_client, f"{detail}/analytics-request", detail)
    refused = text(host_client.get(again.headers["Location"]))
    guest_page = text(guest_client.get(hosts))
    for score in ("61", "87.5"):
        post_form(guest_client, f"/orgs/{guest}/analytics", hosts, total_score=score)
    host_page = text(host_client.get(detail))

    assert asked.headers["Location"] == detail
    assert "An analytics request to this guest is already open" in refused
    assert "waiting for Alder Foods" in refused
    assert re.search(r"Northwind Supplies\s+asks you to run analytics", guest_page)
    assert "Analytics requested" in guest_page
    assert "87.5" in host_page
    assert 'class="score-chart__svg"' in host_page
    # Two points, drawn twice: for wide screens and for phones.
    assert host_page.count('<circle class="score-chart__point') == 4
    assert host_page.count("score-chart__point--current") == 2
    assert 'score-chart__now">87.5<' in host_page
    assert "Request analytics" in host_page  # the request was answered: it can be asked again


def test_a_bad_score_is_explained(connected):
    _, _, guest_client, guest = connected
    hosts = f"/orgs/{guest}/hosts"
    for bad in ("-1", "lots", "nan", "inf", ""):
        response = post_form(guest_client, f"/orgs/{guest}/analytics", hosts, total_score=bad)
        assert "must be a number of 0 or more" in text(
            guest_client.get(response.headers["Location"])
        )


def test_submitting_for_another_organization_is_403(host_admin, guest_admin):
    host_client, host = host_admin
    _, guest = guest_admin
    response = post_form(
        host_client,
        f"/orgs/{guest}/analytics",
        f"/orgs/{host}/guest-connections",
        total_score="1",
    )
    assert response.status_code == 403
