"""The OpenAPI document describes every endpoint of the connection lifecycle."""

from __future__ import annotations

import pytest

LIFECYCLE_OPERATIONS = [
    ("post", "/v1/guest-invitations", "201"),
    ("get", "/v1/guest-invitations", "200"),
    ("get", "/v1/guest-invitations/{invitation_id}", "200"),
    ("post", "/v1/guest-invitations/{invitation_id}/resend", "200"),
    ("patch", "/v1/guest-invitations/{invitation_id}", "200"),
    ("post", "/v1/host-connections", "201"),
    ("get", "/v1/host-connections", "200"),
    ("get", "/v1/host-connections/{host_org_id}", "200"),
    ("patch", "/v1/host-connections/{host_org_id}", "200"),
    ("post", "/v1/guest-connections/{guest_org_id}/disconnection-notification", "202"),
    ("post", "/v1/organizations/{org_id}/analytics/requests", "201"),
    ("post", "/v1/organizations/{org_id}/analytics", "201"),
    ("get", "/v1/guest-connections/{guest_org_id}/score-history", "200"),
]


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/v1/openapi.json").json


@pytest.mark.parametrize(("method", "path", "success"), LIFECYCLE_OPERATIONS)
def test_each_endpoint_is_documented(document, method, path, success):
    operation = document["paths"][path][method]
    assert success in operation["responses"]
    assert operation["x-scenarios"] == ["self"]
    assert {"401", "403", "422"} <= set(operation["responses"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/guest-invitations/{invitation_id}/resend"),
        ("patch", "/v1/guest-invitations/{invitation_id}"),
        ("get", "/v1/guest-connections/{guest_org_id}/score-history"),
    ],
)
def test_our_additions_say_so(document, method, path):
    assert "(ours)" in document["paths"][path][method]["summary"]


def test_conflicts_are_documented_with_their_codes(document):
    operation = document["paths"]["/v1/organizations/{org_id}/analytics/requests"]["post"]
    assert "409" in operation["responses"]
    assert "analytics_request_already_active" in operation["description"]


def test_accepted_by_system_is_defined(document):
    status = document["components"]["schemas"]["GuestInvitation"]["properties"]["status"]
    assert "accepted_by_system" in str(status)
    assert "without this invitation's token" in str(document["components"]["schemas"])
