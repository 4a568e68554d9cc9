"""/v1/host-connections: accepting an invitation, and the guest's view of its hosts."""

from __future__ import annotations

import uuid

import pytest

from app.models import GuestConnection
from tests.conftest import error_codes, row_count

HOST_CONNECTION_FIELDS = [
    "host_organization_id",
    "guest_organization_id",
    "host_name",
    "host_email",
    "owner_email",
    "status",
    "archived",
    "created_at",
    "updated_at",
    "archived_at",
    "active_action_type",
    "active_action_updated_at",
]


# -- accepting ----------------------------------------------------------------------------------


def test_accepting_creates_the_connection(
    app, api, host, host_token, guest, guest_token, make_org, make_connection
):
    """Does accepting connect the guest, with the invitation's parent and owner?"""
    group = make_org("Helios Holdings")
    make_connection(host, make_org("Helios Retail", parent=group))  # a parent the host knows
    created = api.invite(
        host_token,
        host,
        parent_organization_id=str(group),
        owner_email="sales@northwind.example",
    ).json

    response = api.accept(guest_token, guest, host, created["invitation_token"])

    assert response.status_code == 201, response.json
    body = response.json
    assert list(body) == HOST_CONNECTION_FIELDS
    assert body["host_organization_id"] == str(host)
    assert body["guest_organization_id"] == str(guest)
    assert body["host_name"] == "Northwind Supplies"
    assert body["host_email"] == "hello@northwind.example"
    assert body["owner_email"] == "sales@northwind.example"
    assert body["status"] == "connected"
    assert body["archived"] is False and body["active_action_type"] is None
    seen_by_host = api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host).json
    assert seen_by_host["status"] == "connected"
    assert seen_by_host["parent_organization_id"] == str(group)
    assert seen_by_host["parent_organization_name"] == "Helios Holdings"
    invitation = api.get(
        f"/v1/guest-invitations/{created['id']}", token=host_token, requester=host
    ).json
    assert invitation["status"] == "accepted_by_guest"
    assert invitation["guest_organization_id"] == str(guest)
    assert invitation["accepted_at"] is not None


def test_accepting_twice_is_refused(
    app, api, host, host_token, guest, guest_token, make_org, token_for
):
    """Does the token work exactly once, for the same guest or another?"""
    token = api.invite(host_token, host).json["invitation_token"]
    assert api.accept(guest_token, guest, host, token).status_code == 201
    other = make_org("Birch Ltd")

    again = api.accept(guest_token, guest, host, token)
    by_another = api.accept(token_for(other), other, host, token)

    for response in (again, by_another):
        assert response.status_code == 409
        assert error_codes(response) == ["invitation_already_accepted"]
    assert row_count(app, GuestConnection) == 1


@pytest.mark.parametrize("which", ["another_hosts", "unknown", "wrong_host_id"])
def test_a_foreign_token_is_404(
    api, host, host_token, guest, guest_token, make_org, token_for, which
):
    """Is a token that is not this host's refused without telling whose it is?"""
    other_host = make_org("Other Host", "other@host.example")
    foreign = api.invite(token_for(other_host), other_host).json["invitation_token"]
    own = api.invite(host_token, host).json["invitation_token"]
    claimed_host, token = {
        "another_hosts": (host, foreign),
        "unknown": (host, "x" * 43),
        "wrong_host_id": (uuid.uuid4(), own),
    }[which]

    response = api.accept(guest_token, guest, claimed_host, token)

    assert response.status_code == 404
    assert error_codes(response) == ["guest_invitation_not_found"]


def test_accepting_ones_own_invitation_is_422(api, host, host_token):
    token = api.invite(host_token, host).json["invitation_token"]
    response = api.accept(host_token, host, host, token)
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["body", "host_organization_id"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"host_organization_id": "nope", "invitation_token": "x" * 40},
        {"host_organization_id": str(uuid.uuid4()), "invitation_token": "short"},
        {"host_organization_id": str(uuid.uuid4()), "invitation_token": "x" * 2001},
        {"host_organization_id": str(uuid.uuid4()), "invitation_token": "x" * 40, "extra": 1},
    ],
)
def test_bad_accept_bodies_are_422(api, guest, guest_token, body):
    response = api.call(
        "POST", "/v1/host-connections", token=guest_token, requester=guest, json=body
    )
    assert response.status_code == 422
    assert all(item["loc"][0] == "body" for item in response.json["detail"])


def test_accepting_without_json_is_415(api, guest, guest_token):
    response = api.call(
        "POST", "/v1/host-connections", token=guest_token, requester=guest, data="token=x"
    )
    assert response.status_code == 415


def test_a_connected_guest_cannot_accept_another_invitation(
    app, api, host, host_token, guest, guest_token
):
    first = api.invite(host_token, host, "a@elsewhere.example").json["invitation_token"]
    second = api.invite(host_token, host, "b@elsewhere.example").json["invitation_token"]
    api.accept(guest_token, guest, host, first)

    response = api.accept(guest_token, guest, host, second)

    assert response.status_code == 409
    assert error_codes(response) == ["already_connected"]
    assert row_count(app, GuestConnection) == 1


def test_a_guest_that_left_comes_back_by_a_new_invitation(
    app, api, host, host_token, guest, guest_token
):
    first = api.invite(host_token, host, "a@elsewhere.example").json["invitation_token"]
    api.accept(guest_token, guest, host, first)
    api.set_host_status(guest_token, guest, host, "disconnected")
    second = api.invite(host_token, host, "b@elsewhere.example").json["invitation_token"]

    response = api.accept(guest_token, guest, host, second)

    assert response.status_code == 201
    assert response.json["status"] == "connected"
    assert row_count(app, GuestConnection) == 1


# -- the guest's view ---------------------------------------------------------------------------


@pytest.fixture
def three_hosts(make_org, make_connection, guest):
    """The guest's hosts: two connected, one it left; one archived by its host."""
    hosts = {
        "Cedar": make_org("Cedar Lending", "credit@cedar.example"),
        "Bluewater": make_org("Bluewater Freight", "ops@bluewater.example"),
        "Amber": make_org("Amber Bank", "desk@amber.example"),
    }
    make_connection(hosts["Cedar"], guest, owner_email="carla@cedar.example")
    make_connection(
        hosts["Bluewater"], guest, owner_email="ben@bluewater.example", status="disconnected"
    )
    make_connection(hosts["Amber"], guest, owner_email="ann@amber.example", archived=True)
    return hosts


def test_the_guest_lists_its_hosts(api, guest, guest_token, three_hosts, make_org, make_connection):
    """Does the guest see its hosts (and no score), filtered, sorted and paged?"""
    unrelated_guest = make_org("Someone Else")
    make_connection(three_hosts["Cedar"], unrelated_guest)

    def names(query: str = "") -> list[str]:
        response = api.get(f"/v1/host-connections?{query}", token=guest_token, requester=guest)
        assert response.status_code == 200, response.json
        return [item["host_name"].split()[0] for item in response.json["items"]]

    body = api.get("/v1/host-connections", token=guest_token, requester=guest).json
    assert body["total_items"] == 3
    assert list(body["items"][0]) == HOST_CONNECTION_FIELDS
    assert names() == ["Amber", "Bluewater", "Cedar"]
    assert names("order_dir=desc&limit=2") == ["Cedar", "Bluewater"]
    assert names("limit=1&offset=2") == ["Cedar"]
    assert names("statuses=disconnected") == ["Bluewater"]
    assert names("archived=true") == ["Amber"]
    assert names("search_text=LEND") == ["Cedar"]
    assert names("search_field=owner_email&search_text=ben@") == ["Bluewater"]
    assert names("search_field=host_email&search_text=desk") == ["Amber"]
    assert names("order_by=owner_email") == ["Amber", "Bluewater", "Cedar"]


def test_the_guest_walks_its_hosts_by_cursor_and_since(api, guest, guest_token, three_hosts):
    """Does the host list page by cursor, and keep only hosts changed since a moment?"""

    def page(query: str):
        response = api.get(f"/v1/host-connections?{query}", token=guest_token, requester=guest)
        assert response.status_code == 200, response.json
        return response.json

    first = page("order_dir=desc&limit=2")
    second = page(f"order_dir=desc&limit=2&cursor={first['next_cursor']}")
    walked = [item["host_name"] for item in first["items"] + second["items"]]
    assert walked == ["Cedar Lending", "Bluewater Freight", "Amber Bank"]
    assert second["next_cursor"] is None
    latest = max(item["updated_at"] for item in first["items"] + second["items"])
    assert page(f"updated_since={latest}")["total_items"] >= 1
    assert page("updated_since=2999-01-01T00:00:00Z")["total_items"] == 0


@pytest.mark.parametrize("query", ["statuses=gone", "order_by=total_score", "limit=500"])
def test_bad_host_list_queries_are_422(api, guest, guest_token, query):
    response = api.get(f"/v1/host-connections?{query}", token=guest_token, requester=guest)
    assert response.status_code == 422


def test_the_guest_reads_one_host(api, guest, guest_token, three_hosts):
    cedar = three_hosts["Cedar"]
    response = api.get(f"/v1/host-connections/{cedar}", token=guest_token, requester=guest)
    assert response.status_code == 200
    assert response.json["host_name"] == "Cedar Lending"
    assert response.json["owner_email"] == "carla@cedar.example"
    assert "total_score" not in response.json


def test_an_unknown_host_is_404(api, guest, guest_token, make_org):
    stranger = make_org("Stranger")
    for host_id in (uuid.uuid4(), stranger):
        response = api.get(f"/v1/host-connections/{host_id}", token=guest_token, requester=guest)
        assert response.status_code == 404
        assert error_codes(response) == ["host_connection_not_found"]


# -- leaving and coming back ----------------------------------------------------------------------


def test_the_guest_disconnects_and_the_host_sees_it(
    api, host, host_token, guest, guest_token, make_connection
):
    """Does leaving show on the host's side, and reconnecting undo it?"""
    make_connection(host, guest)

    left = api.set_host_status(guest_token, guest, host, "disconnected")
    seen = api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host).json
    again = api.set_host_status(guest_token, guest, host, "disconnected")
    back = api.set_host_status(guest_token, guest, host, "connected")

    assert left.status_code == 200 and left.json["status"] == "disconnected"
    assert seen["status"] == "disconnected"
    assert again.json["updated_at"] == left.json["updated_at"]
    assert back.json["status"] == "connected"
    assert (
        api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host).json["status"]
        == "connected"
    )


def test_leaving_closes_the_hosts_open_request(
    api, host, host_token, guest, guest_token, make_connection
):
    make_connection(host, guest)
    api.request_analytics(host_token, host, guest)

    left = api.set_host_status(guest_token, guest, host, "disconnected").json
    api.set_host_status(guest_token, guest, host, "connected")

    assert left["active_action_type"] is None
    assert api.request_analytics(host_token, host, guest).status_code == 201


@pytest.mark.parametrize(
    "body", [{}, {"status": "gone"}, {"status": "connected", "archived": True}]
)
def test_bad_status_changes_are_422(api, host, guest, guest_token, make_connection, body):
    make_connection(host, guest)
    response = api.call(
        "PATCH", f"/v1/host-connections/{host}", token=guest_token, requester=guest, json=body
    )
    assert response.status_code == 422


def test_changing_an_unknown_host_is_404(api, guest, guest_token):
    response = api.set_host_status(guest_token, guest, uuid.uuid4(), "disconnected")
    assert response.status_code == 404
    assert error_codes(response) == ["host_connection_not_found"]


# -- who may call -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected_status", "expected_code"),
    [
        ("guest", 200, None),
        ("other_guest", 404, "host_connection_not_found"),
        ("host_on_guest", 403, "scenario_not_allowed"),
        ("stranger_on_guest", 403, "scenario_not_allowed"),
        ("stranger_as_guest", 403, "requester_forbidden"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_only_the_guest_itself_sees_or_changes_its_host_connection(
    api, host, guest, make_connection, callers, method, caller, expected_status, expected_code
):
    make_connection(host, guest)
    token, requester, target = callers(caller)  # other_guest: a guest of another host only
    path = f"/v1/host-connections/{host}"

    response = api.call(
        method,
        path,
        token=token,
        requester=requester,
        target=target,
        json={"status": "connected"} if method == "PATCH" else None,
    )

    assert response.status_code == expected_status, response.json
    if expected_code:
        assert error_codes(response) == [expected_code]


@pytest.mark.parametrize("caller", ["host_on_guest", "stranger_on_guest"])
def test_nobody_accepts_for_the_guest(api, host, host_token, callers, caller):
    invitation_token = api.invite(host_token, host).json["invitation_token"]
    token, requester, target = callers(caller)
    response = api.call(
        "POST",
        "/v1/host-connections",
        token=token,
        requester=requester,
        target=target,
        json={"host_organization_id": str(host), "invitation_token": invitation_token},
    )
    assert response.status_code == 403
    assert error_codes(response) == ["scenario_not_allowed"]


def test_listing_without_a_token_is_401(api, guest):
    assert api.get("/v1/host-connections", token=None, requester=guest).status_code == 401
