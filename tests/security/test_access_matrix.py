"""Who may read, list and archive which guest connection: the cross-organization matrix.

Only a host, on itself, sees its own connections. Every other combination is refused, and a
refusal never tells whether a connection exists: the body for "another host's connection" is the
same as for "no connection at all".
"""

from __future__ import annotations

import itertools
import uuid

import pytest

from app.services import audit
from tests.conftest import error_codes

# caller -> (the organization whose client calls, Requester-Organization-ID, Target-Organization-ID)
CALLERS = {
    "the host itself": ("host", "host", "host"),
    "another host, as itself": ("other_host", "other_host", "other_host"),
    "another host, targeting the host": ("other_host", "other_host", "host"),
    "the guest, targeting the host": ("guest", "guest", "host"),
    "the guest, as itself": ("guest", "guest", "guest"),
    "a stranger, claiming to be the host": ("stranger", "host", "host"),
}
# caller -> expected (status, code) for: the host's connection, another host's, an unknown one
SINGLE = {
    "the host itself": [
        (200, None),
        (404, "guest_connection_not_found"),
        (404, "guest_connection_not_found"),
    ],
    "another host, as itself": [
        (404, "guest_connection_not_found"),
        (200, None),
        (404, "guest_connection_not_found"),
    ],
    "another host, targeting the host": [(403, "scenario_not_allowed")] * 3,
    "the guest, targeting the host": [(403, "scenario_not_allowed")] * 3,
    "the guest, as itself": [(404, "guest_connection_not_found")] * 3,
    "a stranger, claiming to be the host": [(403, "requester_forbidden")] * 3,
}
SUBJECTS = ["the host's connection", "another host's connection", "an unknown connection"]
ORGANIZATIONS = ["host", "other_host", "guest", "stranger"]
OWNERS = {"host": "the host's connection", "other_host": "another host's connection"}
OTHER_PAIRS = list(itertools.permutations(ORGANIZATIONS, 2))


@pytest.fixture
def world(make_org, make_connection, token_for):
    """Two hosts with a guest each, and a stranger; returns (orgs, subjects, tokens)."""
    orgs = {
        "host": make_org("Northwind Supplies"),
        "other_host": make_org("Bluewater Freight"),
        "guest": make_org("Alder Foods"),
        "other_guest": make_org("Birch Retail"),
        "stranger": make_org("Stranger Ltd"),
    }
    make_connection(orgs["host"], orgs["guest"])
    make_connection(orgs["other_host"], orgs["other_guest"])
    subjects = {
        "the host's connection": orgs["guest"],
        "another host's connection": orgs["other_guest"],
        "an unknown connection": uuid.uuid4(),
    }
    tokens = {name: token_for(org) for name, org in orgs.items() if name != "other_guest"}
    return orgs, subjects, tokens


def call(api, world, caller, method, path, **kwargs):
    orgs, _, tokens = world
    token_org, requester, target = CALLERS[caller]
    return api.call(
        method,
        path,
        token=tokens[token_org],
        requester=orgs[requester],
        target=orgs[target],
        **kwargs,
    )


def host_connection_state(api, world) -> dict:
    orgs, _, tokens = world
    return api.get(
        f"/v1/guest-connections/{orgs['guest']}", token=tokens["host"], requester=orgs["host"]
    ).json


@pytest.mark.parametrize("caller", ORGANIZATIONS)
@pytest.mark.parametrize("connection", SUBJECTS)
def test_self_calls_see_only_their_own_connections(api, world, caller, connection):
    """Acting as itself (Self), does each organization see exactly its own connection?"""
    orgs, subjects, tokens = world
    guest_id = subjects[connection]

    response = api.get(
        f"/v1/guest-connections/{guest_id}", token=tokens[caller], requester=orgs[caller]
    )

    if OWNERS.get(caller) == connection:
        assert response.status_code == 200
        assert response.json["guest_organization_id"] == str(guest_id)
    else:
        assert response.status_code == 404
        assert error_codes(response) == ["guest_connection_not_found"]


@pytest.mark.parametrize(("caller", "target"), OTHER_PAIRS)
@pytest.mark.parametrize("connection", SUBJECTS)
def test_calls_on_another_organization_are_refused_alike(api, world, caller, target, connection):
    """Acting on another organization (Host or Guest scenario) is never allowed here."""
    orgs, subjects, tokens = world

    response = api.get(
        f"/v1/guest-connections/{subjects[connection]}",
        token=tokens[caller],
        requester=orgs[caller],
        target=orgs[target],
    )

    assert response.status_code == 403
    assert response.json == {
        "detail": [
            {
                "loc": ["header", "Target-Organization-ID"],
                "msg": "This operation is not allowed for this requester and target organization.",
                "type": "authorization",
                "code": "scenario_not_allowed",
            }
        ]
    }


@pytest.mark.parametrize(("caller", "pretends_to_be"), OTHER_PAIRS)
def test_a_client_cannot_act_for_another_organization(api, world, caller, pretends_to_be):
    """Does naming another organization as the requester get refused with 403?"""
    orgs, subjects, tokens = world

    response = api.get(
        f"/v1/guest-connections/{subjects[SUBJECTS[0]]}",
        token=tokens[caller],
        requester=orgs[pretends_to_be],
    )

    assert response.status_code == 403
    assert error_codes(response) == ["requester_forbidden"]


# -- every caller, every connection, read and archive ---------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PATCH"])
@pytest.mark.parametrize(("caller", "subject"), [(c, s) for c in CALLERS for s in SUBJECTS])
def test_single_connection_matrix(app, api, world, caller, subject, method):
    """Does each caller get exactly its answer, and does a refused PATCH change nothing?"""
    orgs, subjects, _ = world
    before = host_connection_state(api, world)
    expected_status, expected_code = SINGLE[caller][SUBJECTS.index(subject)]

    response = call(
        api,
        world,
        caller,
        method,
        f"/v1/guest-connections/{subjects[subject]}",
        **({"json": {"archived": True}} if method == "PATCH" else {}),
    )

    assert response.status_code == expected_status, response.json
    if expected_code:
        assert error_codes(response) == [expected_code]
    else:
        assert response.json["guest_organization_id"] == str(subjects[subject])
    if not (caller == "the host itself" and subject == "the host's connection"):
        assert host_connection_state(api, world) == before
        with app.app_context():
            assert [
                event.action
                for event in audit.list_events(orgs["host"])
                if event.action.startswith("guest_connection.")
                and event.action != "guest_connection.created"
            ] == []


LIST = {
    "the host itself": (200, ["Alder Foods"]),
    "another host, as itself": (200, ["Birch Retail"]),
    "another host, targeting the host": (403, "scenario_not_allowed"),
    "the guest, targeting the host": (403, "scenario_not_allowed"),
    "the guest, as itself": (200, []),
    "a stranger, claiming to be the host": (403, "requester_forbidden"),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_list_matrix(api, world, caller):
    """Does each caller list only the connections of an organization it acts for as host?"""
    status, expected = LIST[caller]
    response = call(api, world, caller, "GET", "/v1/guest-connections?limit=100")
    assert response.status_code == status
    if status == 200:
        assert [item["guest_name"] for item in response.json["items"]] == expected
        assert response.json["total_items"] == len(expected)
    else:
        assert error_codes(response) == [expected]


@pytest.mark.parametrize("method", ["GET", "PATCH"])
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "not_authenticated"),
        ({"Authorization": "Bearer not-a-token"}, 401, "invalid_token"),
    ],
)
def test_no_valid_token_is_401(client, world, method, headers, status, code):
    orgs, subjects, _ = world
    paths = [f"/v1/guest-connections/{subjects[SUBJECTS[0]]}"]
    if method == "GET":
        paths.append("/v1/guest-connections")
    for path in paths:
        response = client.open(
            path,
            method=method,
            headers={
                **headers,
                "Requester-Organization-ID": str(orgs["host"]),
                "Target-Organization-ID": str(orgs["host"]),
            },
            json={"archived": True} if method == "PATCH" else None,
        )
        assert response.status_code == status
        assert error_codes(response) == [code]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_organization_headers_are_422(api, world):
    orgs, _, tokens = world
    response = api.call(
        "GET", "/v1/guest-connections", token=tokens["host"], requester=None, target=None
    )
    assert response.status_code == 422
    assert [item["loc"] for item in response.json["detail"]] == [
        ["header", "Requester-Organization-ID"],
        ["header", "Target-Organization-ID"],
    ]


def test_other_methods_are_405(api, world):
    orgs, _, tokens = world
    for method in ["POST", "PUT", "DELETE"]:
        response = api.call(
            method, "/v1/guest-connections", token=tokens["host"], requester=orgs["host"]
        )
        assert response.status_code == 405
        assert error_codes(response) == ["method_not_allowed"]
