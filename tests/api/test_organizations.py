"""GET /v1/organizations/{org_id}: an organization, as itself and connected ones see it."""

from __future__ import annotations

import pytest

from tests.conftest import RFC3339_UTC, error_codes


@pytest.fixture
def group(make_org):
    return make_org("Helios Holdings")


@pytest.fixture
def guest(make_org, group):
    """Alder Foods, in the Helios group."""
    return make_org("Alder Foods", "finance@alder.example", parent=group)


@pytest.mark.parametrize(
    ("caller", "expected_status", "expected_code"),
    [
        ("guest", 200, None),  # Self
        ("host_on_guest", 200, None),  # Host
        ("other_host_on_guest", 403, "no_connection"),
        ("stranger_as_guest", 403, "requester_forbidden"),
    ],
)
def test_self_and_connected_organizations_read_it(
    api, pair, group, callers, caller, expected_status, expected_code
):
    _, guest = pair
    token, requester, target = callers(caller)
    response = api.get(
        f"/v1/organizations/{guest}", token=token, requester=requester, target=target
    )
    assert response.status_code == expected_status, response.json
    if expected_code:
        assert error_codes(response) == [expected_code]
        return
    body = response.json
    assert list(body) == [
        "id",
        "name",
        "email",
        "parent_organization_id",
        "parent_organization_name",
        "created_at",
    ]
    assert (body["id"], body["name"], body["email"]) == (
        str(guest),
        "Alder Foods",
        "finance@alder.example",
    )
    assert (body["parent_organization_id"], body["parent_organization_name"]) == (
        str(group),
        "Helios Holdings",
    )
    assert RFC3339_UTC.match(body["created_at"])


def test_a_guest_reads_its_host(api, pair, guest_token):
    """Guest scenario: the guest reads the host it is connected to; no parent is null."""
    host, guest = pair
    response = api.get(f"/v1/organizations/{host}", token=guest_token, requester=guest, target=host)
    assert response.status_code == 200
    assert response.json["name"] == "Northwind Supplies"
    assert response.json["parent_organization_id"] is None


def test_org_id_must_be_the_target(api, pair, host_token):
    host, guest = pair
    response = api.get(f"/v1/organizations/{guest}", token=host_token, requester=host)
    assert response.status_code == 403
    assert error_codes(response) == ["organization_mismatch"]


def test_the_openapi_document_is_also_at_the_root(client):
    root, versioned = client.get("/openapi.json"), client.get("/v1/openapi.json")
    assert root.status_code == 200
    assert root.json == versioned.json
    assert "/v1/organizations/{org_id}" in root.json["paths"]
