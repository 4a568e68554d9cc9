"""Financial statements: an organization records its figures; only it reads them."""

from __future__ import annotations

import pytest

from app.models import FinancialStatement
from tests.conftest import RFC3339_UTC, SAFE_STATEMENT, error_codes, row_count


def statements_path(org) -> str:
    return f"/v1/organizations/{org}/financial-statements"


def test_a_statement_is_stored_exactly_and_listed_newest_first(api, guest, guest_token):
    """Are the amounts kept to the cent (as strings), and the newest period listed first?"""
    first = api.add_statement(guest_token, guest, period_end="2024-12-31", ebit=1234.5)
    second = api.add_statement(guest_token, guest, total_assets="98765432109876.54", equity="-0.01")

    assert first.status_code == 201, first.json
    body = second.json
    assert list(body) == [
        "id",
        "organization_id",
        "period_end",
        "currency",
        *list(SAFE_STATEMENT)[2:],
        "created_at",
    ]
    assert body["organization_id"] == str(guest)
    assert (body["total_assets"], body["equity"]) == ("98765432109876.54", "-0.01")
    assert first.json["ebit"] == "1234.50"
    assert RFC3339_UTC.match(body["created_at"])
    listed = api.get(statements_path(guest), token=guest_token, requester=guest).json
    assert listed["total_items"] == 2
    assert [item["period_end"] for item in listed["items"]] == ["2025-12-31", "2024-12-31"]
    assert listed["items"][0] == body
    page = api.get(f"{statements_path(guest)}?limit=1&offset=1", token=guest_token, requester=guest)
    assert [item["id"] for item in page.json["items"]] == [first.json["id"]]


@pytest.mark.parametrize(
    ("changes", "bad_fields"),
    [
        ({"current_assets": "1000.01"}, ["current_assets"]),  # more than total assets
        ({"current_liabilities": "600"}, ["current_liabilities"]),  # more than total liabilities
        ({"total_assets": "0", "total_liabilities": "-1"}, ["total_assets", "total_liabilities"]),
        (
            {"current_assets": "-1", "current_liabilities": "-1"},
            ["current_assets", "current_liabilities"],
        ),
        ({"currency": "eur"}, ["currency"]),
        ({"currency": "XYZ"}, ["currency"]),
        ({"period_end": "2999-12-31"}, ["period_end"]),
        ({"period_end": "31/12/2025"}, ["period_end"]),
        ({"ebit": "1.001"}, ["ebit"]),
        ({"ebit": "NaN", "equity": "Infinity"}, ["ebit", "equity"]),
        ({"retained_earnings": "1e300"}, ["retained_earnings"]),
        ({"retained_earnings": True}, ["retained_earnings"]),
        ({"equity": None}, ["equity"]),
        ({"extra": 1}, ["extra"]),
    ],
)
def test_each_bad_field_is_named_in_one_422(app, api, guest, guest_token, changes, bad_fields):
    response = api.add_statement(guest_token, guest, **changes)

    assert response.status_code == 422, response.json
    assert sorted(d["loc"][1] for d in response.json["detail"]) == sorted(bad_fields)
    assert all(d["loc"][0] == "body" for d in response.json["detail"])
    assert row_count(app, FinancialStatement) == 0


def test_the_messages_say_what_is_wrong(api, guest, guest_token):
    response = api.add_statement(guest_token, guest, current_assets="2000", currency="ECU")
    messages = {d["loc"][1]: d["msg"] for d in response.json["detail"]}
    assert (
        messages["current_assets"]
        == "Value error, current assets cannot be larger than total assets."
    )
    assert "ISO 4217" in messages["currency"]


def test_negative_earnings_and_equity_are_taken(api, guest, guest_token):
    response = api.add_statement(
        guest_token, guest, retained_earnings="-250", ebit="-20", equity="-200"
    )
    assert response.status_code == 201, response.json


def test_a_missing_field_is_named(api, guest, guest_token):
    figures = {k: v for k, v in SAFE_STATEMENT.items() if k != "ebit"}
    response = api.call(
        "POST", statements_path(guest), token=guest_token, requester=guest, json=figures
    )
    assert response.status_code == 422
    assert [d["loc"] for d in response.json["detail"]] == [["body", "ebit"]]


@pytest.mark.parametrize(
    ("caller", "expected_code"),
    [
        ("host_on_guest", "scenario_not_allowed"),
        ("stranger_on_guest", "scenario_not_allowed"),
        ("stranger_as_guest", "requester_forbidden"),
    ],
)
def test_only_the_organization_itself_writes_and_reads_them(
    api, pair, callers, caller, expected_code
):
    _, guest = pair
    token, requester, target = callers(caller)
    for method, kwargs in (("POST", {"json": SAFE_STATEMENT}), ("GET", {})):
        response = api.call(
            method,
            statements_path(guest),
            token=token,
            requester=requester,
            target=target,
            **kwargs,
        )
        assert response.status_code == 403, (method, response.json)
        assert error_codes(response) == [expected_code]


def test_org_id_must_be_the_target(api, host, guest, guest_token):
    response = api.call(
        "POST", statements_path(host), token=guest_token, requester=guest, json=SAFE_STATEMENT
    )
    assert response.status_code == 403
    assert error_codes(response) == ["organization_mismatch"]
