"""The analytics loop in the browser: the host asks, the guest adds a statement and starts a run,
the host sees the score with its basis, and the chart's points lead to their runs."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import AnalyticsRun, FinancialStatement
from tests.conftest import SAFE_STATEMENT, row_count
from tests.web.conftest import post_form, text


def add_statement(client, guest, **changes):
    page = f"/orgs/{guest}/analytics"
    return post_form(
        client, f"/orgs/{guest}/financial-statements", page, **{**SAFE_STATEMENT, **changes}
    )


def start_run(client, guest, **form):
    page = f"/orgs/{guest}/analytics"
    return post_form(client, f"/orgs/{guest}/analytics", page, **form)


def test_request_statement_run_and_the_score_shows_with_its_basis(app, connected):
    """Does the whole loop show on both sides, ending in the host's score with its basis?"""
    host_client, host, guest_client, guest = connected
    detail = f"/orgs/{host}/guest-connections/{guest}"
    analytics = f"/orgs/{guest}/analytics"

    asked = post_form(host_client, f"{detail}/analytics-request", detail)
    again = post_form(host_client, f"{detail}/analytics-request", detail)
    refused = text(host_client.get(again.headers["Location"]))
    hosts_page = text(guest_client.get(f"/orgs/{guest}/hosts"))
    added = add_statement(guest_client, guest, period_end="2024-12-31", ebit="-100")
    add_statement(guest_client, guest, total_assets="1 000.00")  # spaces are read as nothing
    ran = start_run(guest_client, guest)
    guest_page = text(guest_client.get(analytics))
    host_page = text(host_client.get(detail))

    assert asked.headers["Location"] == detail
    assert "An analytics request to this guest is already open" in refused
    assert "waiting for Alder Foods" in refused
    assert re.search(r"Northwind Supplies\s+asks you to run analytics", hosts_page)
    assert f'href="{analytics}"' in hosts_page
    assert added.headers["Location"] == analytics
    assert ran.headers["Location"] == analytics
    assert "The run succeeded: your score is 87.48 (Altman Z″ 4.35, safe zone)" in guest_page
    assert "31 Dec 2025" in guest_page and "1,000.00" in guest_page
    assert "87.48 / 100 · Altman Z″ 4.35, safe zone · statements to 31 Dec 2025 · analyzed" in (
        host_page
    )
    with app.app_context():
        run_id = db.session.scalar(db.select(AnalyticsRun.id))
    assert f'<a href="#run-{run_id}">' in host_page  # the chart's point leads to its run
    assert f'id="run-{run_id}"' in host_page
    # Drawn twice: for wide screens and for phones.
    assert host_page.count("score-chart__point--current") == 2
    assert "Request analytics" in host_page  # the request was answered: it can be asked again
    assert "1000.00" not in host_page and "1,000.00" not in host_page  # never the figures


def test_a_bad_statement_comes_back_with_each_problem_beside_its_field(app, guest_admin):
    client, guest = guest_admin
    response = add_statement(
        client, guest, current_assets="1500", currency="EURO", period_end="", ebit="lots"
    )
    page = text(response)

    assert response.status_code == 422
    assert "4 fields to fix" in page
    assert "current assets cannot be larger than total assets" in page
    assert "ISO 4217" in page
    assert 'id="statement-ebit" name="ebit" type="text"' in page
    assert re.search(
        r'id="statement-current_assets"[^>]*value="1500"[^>]*aria-invalid="true"', page, re.S
    )
    assert row_count(app, FinancialStatement) == 0


def test_a_run_without_a_statement_says_to_add_one(app, guest_admin):
    client, guest = guest_admin
    response = start_run(client, guest)
    assert "add one, then start the run" in text(client.get(response.headers["Location"]))
    assert row_count(app, AnalyticsRun) == 0


@pytest.mark.parametrize("score", ["87.5", "", "lots"])
def test_a_typed_score_is_422(app, guest_admin, score):
    """Is the old submit-a-score form refused on the page too, with no run?"""
    client, guest = guest_admin
    add_statement(client, guest)
    response = start_run(client, guest, total_score=score)
    assert response.status_code == 422
    assert "Scores are computed, not submitted" in text(response)
    assert row_count(app, AnalyticsRun) == 0


def test_a_failed_run_shows_its_error(app, guest_admin):
    client, guest = guest_admin
    add_statement(client, guest)
    app.config["SCORER"] = "tests.web.test_analytics:no_such_scorer"
    try:
        start_run(client, guest)
    finally:
        app.config["SCORER"] = "app.services.scoring:altman_z_double_prime"
    page = text(client.get(f"/orgs/{guest}/analytics"))
    assert "The run failed: The configured scorer" in page
    assert page.count("cannot be loaded") == 2  # the message, and the run's row
    assert ">failed<" in page


def test_members_read_the_page_but_only_admins_write(app, guest, signed_in):
    client = signed_in(guest, "ann@alder.example", role="member")
    page = text(client.get(f"/orgs/{guest}/analytics"))
    assert "Your analytics" in page and "Add the statement" not in page
    assert "Start a run" not in page
    assert add_statement(client, guest).status_code == 403
    assert start_run(client, guest).status_code == 403
    assert row_count(app, FinancialStatement) == 0


def test_another_organizations_page_is_403(host_admin, guest_admin):
    host_client, host = host_admin
    _, guest = guest_admin
    assert host_client.get(f"/orgs/{guest}/analytics").status_code == 403
    response = post_form(host_client, f"/orgs/{guest}/analytics", f"/orgs/{host}/guest-connections")
    assert response.status_code == 403
