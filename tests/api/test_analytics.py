"""The analytics loop: a host asks, the guest submits its score, the score shows everywhere."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from app.extensions import db
from app.models import ActionStatus, ActionType, ConnectionAction, GuestConnection, utcnow
from app.services.analytics import recent_scores
from tests.conftest import error_codes, race, row_count


@pytest.fixture
def guest(guest, host, make_connection):
    """The guest, connected to the host."""
    make_connection(host, guest)
    return guest


def seen_by_host(api, token, host, guest) -> dict:
    return api.get(f"/v1/guest-connections/{guest}", token=token, requester=host).json


def seen_by_guest(api, token, guest, host) -> dict:
    return api.get(f"/v1/host-connections/{host}", token=token, requester=guest).json


# -- asking -------------------------------------------------------------------------------------


def test_asking_opens_an_action_seen_on_both_sides(api, host, host_token, guest, guest_token):
    """Does the request show as the active action for the host and for the guest?"""
    response = api.request_analytics(host_token, host, guest)

    assert response.status_code == 201, response.json
    body = response.json
    assert list(body) == [
        "id",
        "host_organization_id",
        "guest_organization_id",
        "action_type",
        "status",
        "created_at",
        "updated_at",
    ]
    assert body["host_organization_id"] == str(host)
    assert body["guest_organization_id"] == str(guest)
    assert (body["action_type"], body["status"]) == ("analytics_request", "active")
    for side in (
        seen_by_host(api, host_token, host, guest),
        seen_by_guest(api, guest_token, guest, host),
    ):
        assert side["active_action_type"] == "analytics_request"
        assert side["active_action_updated_at"] == body["created_at"]


def test_asking_twice_while_one_is_open_is_409(api, host, host_token, guest):
    api.request_analytics(host_token, host, guest)
    again = api.request_analytics(host_token, host, guest)
    assert again.status_code == 409
    assert error_codes(again) == ["analytics_request_already_active"]
    assert "already open" in again.json["detail"][0]["msg"]


def test_a_guest_that_is_not_connected_is_404(api, host, host_token, make_org):
    stranger = make_org("Stranger")
    for org in (stranger, uuid.uuid4()):
        response = api.request_analytics(host_token, host, org)
        assert response.status_code == 404
        assert error_codes(response) == ["guest_connection_not_found"]


def test_a_guest_that_left_cannot_be_asked(api, host, host_token, guest, guest_token):
    api.set_host_status(guest_token, guest, host, "disconnected")
    response = api.request_analytics(host_token, host, guest)
    assert response.status_code == 409
    assert error_codes(response) == ["guest_connection_disconnected"]


def test_a_bad_org_id_is_422(api, host, host_token):
    response = api.call(
        "POST", "/v1/organizations/nope/analytics/requests", token=host_token, requester=host
    )
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["path", "org_id"]


@pytest.mark.parametrize(
    ("caller", "expected_status", "expected_code"),
    [
        ("host", 201, None),
        ("other_host", 404, "guest_connection_not_found"),
        ("guest_on_host", 403, "scenario_not_allowed"),
        ("host_on_guest", 403, "scenario_not_allowed"),
        ("stranger_on_host", 403, "scenario_not_allowed"),
        ("stranger_as_host", 403, "requester_forbidden"),
    ],
)
def test_only_the_host_itself_asks(api, guest, callers, caller, expected_status, expected_code):
    token, requester, target = callers(caller)
    response = api.call(
        "POST",
        f"/v1/organizations/{guest}/analytics/requests",
        token=token,
        requester=requester,
        target=target,
    )
    assert response.status_code == expected_status, response.json
    if expected_code:
        assert error_codes(response) == [expected_code]


# -- submitting ---------------------------------------------------------------------------------


def test_the_score_reaches_every_connected_host_and_closes_requests(
    app, api, host, host_token, guest, guest_token, make_org, make_connection, token_for
):
    """Does one result update the score on each connected host and resolve open requests?"""
    second_host = make_org("Cedar Lending")
    make_connection(second_host, guest)
    left_host = make_org("Bluewater Freight")
    make_connection(left_host, guest, status="disconnected", score=10)
    api.request_analytics(host_token, host, guest)

    response = api.submit_score(guest_token, guest, 87.5)

    assert response.status_code == 201, response.json
    body = response.json
    assert body["organization_id"] == str(guest)
    assert body["total_score"] == 87.5
    assert body["status"] == "success"
    assert (body["connections_updated"], body["requests_resolved"]) == (2, 1)
    for org in (host, second_host):
        connection = seen_by_host(api, token_for(org) if org != host else host_token, org, guest)
        assert connection["total_score"] == 87.5
        assert connection["score_updated_at"] == body["created_at"]
        assert connection["active_action_type"] is None
    left = seen_by_host(api, token_for(left_host), left_host, guest)
    assert left["total_score"] == 10  # a host the guest left gets no new score
    assert seen_by_guest(api, guest_token, guest, host)["active_action_type"] is None
    with app.app_context():
        statuses = db.session.scalars(db.select(ConnectionAction.status)).all()
    assert statuses == [ActionStatus.RESOLVED]
    assert api.request_analytics(host_token, host, guest).status_code == 201


@pytest.mark.parametrize("score", [0, 87.5, 100])
def test_any_score_from_0_to_100_is_taken(api, host, host_token, guest, guest_token, score):
    assert api.submit_score(guest_token, guest, score).status_code == 201
    assert seen_by_host(api, host_token, host, guest)["total_score"] == score


@pytest.mark.parametrize("score", [-0.1, 100.1, 1000, "87.5", True, None, [1]])
def test_bad_scores_are_422(api, guest, guest_token, score):
    response = api.submit_score(guest_token, guest, score)
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["body", "total_score"]


def submit(api, token, guest, org_id=None, **kwargs):
    """POST to /v1/organizations/{org_id}/analytics as the guest (org_id: the guest's own)."""
    path = f"/v1/organizations/{org_id or guest}/analytics"
    return api.call("POST", path, token=token, requester=guest, **kwargs)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_scores_are_422(api, guest, guest_token, literal):
    """Are JSON's non-standard NaN and infinities refused rather than stored?"""
    response = submit(
        api,
        guest_token,
        guest,
        data='{"total_score": ' + literal + "}",
        content_type="application/json",
    )
    assert response.status_code == 422


@pytest.mark.parametrize("body", [{}, {"total_score": 1, "currency": "EUR"}])
def test_bad_submission_bodies_are_422(api, guest, guest_token, body):
    assert submit(api, guest_token, guest, json=body).status_code == 422


def test_submitting_without_json_is_415(api, guest, guest_token):
    assert submit(api, guest_token, guest, data="1").status_code == 415


def test_a_guest_submits_only_its_own_analytics(api, host, guest, guest_token):
    """Is an org_id other than the target refused?"""
    response = submit(api, guest_token, guest, org_id=host, json={"total_score": 99})
    assert response.status_code == 403
    assert error_codes(response) == ["organization_mismatch"]


@pytest.mark.parametrize("caller", ["host_on_guest", "stranger_on_guest", "stranger_as_guest"])
def test_nobody_else_submits_for_the_guest(api, guest, callers, caller):
    token, requester, target = callers(caller)
    response = api.call(
        "POST",
        f"/v1/organizations/{guest}/analytics",
        token=token,
        requester=requester,
        target=target,
        json={"total_score": 1},
    )
    assert response.status_code == 403


# -- history ------------------------------------------------------------------------------------


def test_every_score_is_kept_in_the_history(
    api, host, host_token, make_org, make_connection, token_for
):
    """Does the history list each value, newest first, starting with the recorded one?"""
    guest = make_org("Birch Ltd")
    make_connection(host, guest, score=40)
    guest_token = token_for(guest)
    for score in (55, 61.5):
        api.submit_score(guest_token, guest, score)

    response = api.get(
        f"/v1/guest-connections/{guest}/score-history", token=host_token, requester=host
    )

    assert response.status_code == 200
    body = response.json
    assert body["total_items"] == 3
    assert [(item["total_score"], item["source"]) for item in body["items"]] == [
        (61.5, "analytics"),
        (55, "analytics"),
        (40, "cli"),
    ]
    page = api.get(
        f"/v1/guest-connections/{guest}/score-history?limit=1&offset=1",
        token=host_token,
        requester=host,
    ).json
    assert [item["total_score"] for item in page["items"]] == [55]


def test_another_hosts_history_is_404(api, guest, make_org, token_for):
    other = make_org("Other Host")
    response = api.get(
        f"/v1/guest-connections/{guest}/score-history", token=token_for(other), requester=other
    )
    assert response.status_code == 404
    assert error_codes(response) == ["guest_connection_not_found"]


def test_recent_scores_for_the_chart_come_in_one_query(
    app, host, make_org, make_connection, token_for, api, count_queries
):
    """Does the detail page's chart read its points with a single query?"""
    guest = make_org("Birch Ltd")
    make_connection(host, guest, score=40)
    guest_token = token_for(guest)
    api.submit_score(guest_token, guest, 55)

    with app.app_context(), count_queries() as statements:
        scores = recent_scores(host, guest, limit=1)

    assert [item.total_score for item in scores] == [55]
    assert len(statements) == 1


def test_an_action_shown_on_the_connection_also_blocks_a_new_request(
    app, api, host, host_token, guest
):
    """Is a request refused when the connection shows an open action (e.g. imported data)?"""
    with app.app_context():
        connection = db.session.scalar(db.select(GuestConnection))
        connection.active_action_type = ActionType.ANALYTICS_REQUEST
        connection.active_action_updated_at = utcnow()
        db.session.commit()

    response = api.request_analytics(host_token, host, guest)

    assert response.status_code == 409
    assert error_codes(response) == ["analytics_request_already_active"]


# -- racing requests ------------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_racing_analytics_requests_open_one_action(app, host, host_token, guest):
    """Do simultaneous requests to one guest open exactly one action (PostgreSQL)?"""

    def ask(api):
        return api.request_analytics(host_token, host, guest)

    results = race(app, [ask] * 4)

    assert Counter(status for status, _ in results) == {201: 1, 409: 3}, results
    assert row_count(app, ConnectionAction) == 1
