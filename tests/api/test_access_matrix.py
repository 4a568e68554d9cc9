"""Who can read which guest connection: only a host, on itself, sees its own connections.

Every other combination is refused, and a refusal never tells whether a connection exists:
the body for "another host's connection" is the same as for "no connection at all".
"""

import itertools
import uuid

import pytest

from tests.conftest import error_codes


@pytest.fixture
def world(make_org, make_connection, token_for):
    host = make_org("Northwind Supplies")
    other_host = make_org("Bluewater Freight")
    guest = make_org("Alder Foods")
    others_guest = make_org("Birch Retail")
    stranger = make_org("Cobalt Labs")
    make_connection(host, guest)
    make_connection(other_host, others_guest)
    orgs = {
        "host": host,
        "other_host": other_host,
        "guest": guest,
        "stranger": stranger,
    }
    return {
        "orgs": orgs,
        "tokens": {name: token_for(org) for name, org in orgs.items()},
        "connections": {
            "host's": guest,
            "other host's": others_guest,
            "unknown": uuid.uuid4(),
        },
    }


CALLERS = ["host", "other_host", "guest", "stranger"]
CONNECTIONS = ["host's", "other host's", "unknown"]
OWNERS = {"host": "host's", "other_host": "other host's"}
OTHER_PAIRS = list(itertools.permutations(CALLERS, 2))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("connection", CONNECTIONS)
def test_self_calls_see_only_their_own_connections(api, world, caller, connection):
    """Acting as itself (Self), does each organization see exactly its own connection?"""
    org = world["orgs"][caller]
    guest_id = world["connections"][connection]

    response = api.get(
        f"/v1/guest-connections/{guest_id}", token=world["tokens"][caller], requester=org
    )

    if OWNERS.get(caller) == connection:
        assert response.status_code == 200
        assert response.json["guest_organization_id"] == str(guest_id)
    else:
        assert response.status_code == 404
        assert error_codes(response) == ["guest_connection_not_found"]


@pytest.mark.parametrize(("caller", "target"), OTHER_PAIRS)
@pytest.mark.parametrize("connection", CONNECTIONS)
def test_calls_on_another_organization_are_refused_alike(api, world, caller, target, connection):
    """Acting on another organization (Host or Guest scenario) is never allowed here."""
    org = world["orgs"][caller]

    response = api.get(
        f"/v1/guest-connections/{world['connections'][connection]}",
        token=world["tokens"][caller],
        requester=org,
        target=world["orgs"][target],
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
    impersonated = world["orgs"][pretends_to_be]
    guest_id = world["connections"]["host's"]

    response = api.get(
        f"/v1/guest-connections/{guest_id}",
        token=world["tokens"][caller],
        requester=impersonated,
    )

    assert response.status_code == 403
    assert error_codes(response) == ["requester_forbidden"]
