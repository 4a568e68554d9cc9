"""GET /v1/guest-connections/{guest_org_id}: the contract's object, and every refusal."""

import re
import uuid

import pytest

from tests.conftest import error_codes

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


@pytest.fixture
def host_and_guest(make_org, make_connection):
    host = make_org("Northwind Supplies", "hello@northwind.example")
    group = make_org("Helios Holdings")
    guest = make_org("Alder Foods", "finance@alder.example", parent=group)
    make_connection(host, guest, owner_email="sales@northwind.example", score=87.5)
    return host, guest, group


def test_returns_the_contract_object(api, token_for, host_and_guest):
    """Does the host get exactly the contract's fields, joined from the organizations?"""
    host, guest, group = host_and_guest
    response = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host)

    assert response.status_code == 200
    body = response.json
    assert list(body) == [
        "host_organization_id",
        "guest_organization_id",
        "status",
        "guest_name",
        "guest_email",
        "owner_email",
        "archived",
        "created_at",
        "updated_at",
        "total_score",
        "score_updated_at",
        "archived_at",
        "active_action_type",
        "active_action_updated_at",
        "parent_organization_id",
        "parent_organization_name",
    ]
    assert body["host_organization_id"] == str(host)
    assert body["guest_organization_id"] == str(guest)
    assert body["status"] == "connected"
    assert body["guest_name"] == "Alder Foods"
    assert body["guest_email"] == "finance@alder.example"
    assert body["owner_email"] == "sales@northwind.example"
    assert body["archived"] is False
    assert body["archived_at"] is None
    assert body["total_score"] == 87.5
    assert body["active_action_type"] is None
    assert body["parent_organization_id"] == str(group)
    assert body["parent_organization_name"] == "Helios Holdings"
    for field in ("created_at", "updated_at", "score_updated_at"):
        assert RFC3339_UTC.match(body[field]), body[field]


def test_parent_recorded_by_the_host_wins(api, token_for, make_org, make_connection):
    """Is the parent the host recorded shown instead of the guest's own parent?"""
    host = make_org("Host")
    own_group, recorded_group = make_org("Own Group"), make_org("Recorded Group")
    guest = make_org("Guest", parent=own_group)
    make_connection(host, guest, parent=recorded_group)

    body = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host).json

    assert body["parent_organization_id"] == str(recorded_group)
    assert body["parent_organization_name"] == "Recorded Group"


def test_nulls_when_nothing_is_known(api, token_for, make_org, make_connection):
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest, status="disconnected", archived=True)

    body = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host).json

    assert body["status"] == "disconnected"
    assert body["archived"] is True and RFC3339_UTC.match(body["archived_at"])
    for field in (
        "guest_email",
        "total_score",
        "score_updated_at",
        "parent_organization_id",
        "parent_organization_name",
        "active_action_type",
        "active_action_updated_at",
    ):
        assert body[field] is None, field


def test_unknown_guest_is_404(api, token_for, make_org):
    host = make_org("Host")
    response = api.get(
        f"/v1/guest-connections/{uuid.uuid4()}", token=token_for(host), requester=host
    )
    assert response.status_code == 404
    assert error_codes(response) == ["guest_connection_not_found"]


def test_a_successful_call_runs_at_most_two_queries(api, token_for, host_and_guest, count_queries):
    host, guest, _ = host_and_guest
    token = token_for(host)
    api.get(f"/v1/guest-connections/{guest}", token=token, requester=host)  # warm the key cache
    with count_queries() as statements:
        response = api.get(f"/v1/guest-connections/{guest}", token=token, requester=host)
    assert response.status_code == 200
    assert len(statements) <= 2, statements
