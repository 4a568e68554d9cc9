"""The analytics loop: a host asks, the guest runs analytics on its statements, hosts see it."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from app.extensions import db
from app.models import (
    ActionStatus,
    ActionType,
    AnalyticsRun,
    ConnectionAction,
    GuestConnection,
    ScoreChange,
    utcnow,
)
from app.services.connection_page import read_connection_page
from app.services.scoring import Score, ScoringError
from tests.conftest import RFC3339_UTC, SAFE_SCORE, error_codes, race, row_count, statement_scoring


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


# -- runs ---------------------------------------------------------------------------------------

RUN_FIELDS = [
    "id",
    "organization_id",
    "status",
    "created_at",
    "processing_at",
    "updated_at",
    "analyzed_on",
    "total_score",
    "model",
    "model_value",
    "zone",
    "statement_period_end",
    "error",
]


def test_a_run_scores_the_latest_statement_in_the_originals_shape(api, guest, guest_token):
    """Does a POST with no body answer 201 with the run, scored by Altman Z″?"""
    api.add_statement(guest_token, guest, period_end="2024-12-31", ebit="-500.00")
    api.add_statement(guest_token, guest)  # 2025-12-31: Z″ 4.348
    response = api.start_run(guest_token, guest)

    assert response.status_code == 201, response.json
    run = response.json
    assert list(run) == RUN_FIELDS
    assert run["organization_id"] == str(guest)
    assert (run["status"], run["total_score"], run["model"]) == ("success", SAFE_SCORE, "Altman Z″")
    assert (run["model_value"], run["zone"]) == (4.348, "safe")
    assert (run["statement_period_end"], run["error"]) == ("2025-12-31", None)
    for field in ("created_at", "processing_at", "updated_at", "analyzed_on"):
        assert RFC3339_UTC.match(run[field]), field
    assert run["created_at"] <= run["processing_at"] <= run["updated_at"] == run["analyzed_on"]
    assert "total_assets" not in json.dumps(run)


def test_the_score_reaches_every_connected_host_and_closes_requests(
    app, api, host, host_token, guest, guest_token, make_org, make_connection, token_for
):
    """Does one run update the score on each connected host and resolve open requests?"""
    second_host = make_org("Cedar Lending")
    make_connection(second_host, guest)
    left_host = make_org("Bluewater Freight")
    make_connection(left_host, guest, status="disconnected", score=10)
    api.request_analytics(host_token, host, guest)

    run = api.score(guest_token, guest).json

    for org in (host, second_host):
        connection = seen_by_host(api, token_for(org) if org != host else host_token, org, guest)
        assert connection["total_score"] == SAFE_SCORE
        assert connection["score_updated_at"] == run["analyzed_on"]
        assert connection["active_action_type"] is None
    left = seen_by_host(api, token_for(left_host), left_host, guest)
    assert left["total_score"] == 10  # a host the guest left gets no new score
    assert seen_by_guest(api, guest_token, guest, host)["active_action_type"] is None
    with app.app_context():
        statuses = db.session.scalars(db.select(ConnectionAction.status)).all()
        history = db.session.execute(
            db.select(ScoreChange.host_organization_id, ScoreChange.run_id, ScoreChange.model)
        ).all()
    assert statuses == [ActionStatus.RESOLVED]
    assert set(history) == {
        (host, uuid.UUID(run["id"]), "Altman Z″"),
        (second_host, uuid.UUID(run["id"]), "Altman Z″"),
        (left_host, None, "manual (command line)"),
    }
    assert api.request_analytics(host_token, host, guest).status_code == 201


def test_without_a_statement_a_run_is_422_saying_to_add_one(app, api, guest, guest_token):
    response = api.start_run(guest_token, guest)
    assert response.status_code == 422
    assert "add one" in response.json["detail"][0]["msg"]
    assert row_count(app, AnalyticsRun) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {"total_score": 87.5}},
        {"json": {"total_score": 87.5, "currency": "EUR"}},
        {"data": '{"total_score": NaN}', "content_type": "application/json"},
    ],
)
def test_a_typed_score_is_422_scores_are_computed(
    app, api, host, host_token, guest, guest_token, kwargs
):
    """Is a body carrying total_score refused, with no run and no score change?"""
    api.add_statement(guest_token, guest)
    response = api.start_run(guest_token, guest, **kwargs)

    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["body", "total_score"]
    assert "computed, not submitted" in response.json["detail"][0]["msg"]
    assert row_count(app, AnalyticsRun) == 0
    assert seen_by_host(api, host_token, host, guest)["total_score"] is None


@pytest.mark.parametrize("kwargs", [{"json": {}}, {"data": ""}])
def test_an_empty_body_is_no_body(api, guest, guest_token, kwargs):
    api.add_statement(guest_token, guest)
    assert api.start_run(guest_token, guest, **kwargs).status_code == 201


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [({"json": {"unknown": 1}}, 422), ({"data": "x", "content_type": "text/plain"}, 415)],
)
def test_any_other_body_is_refused(api, guest, guest_token, kwargs, status):
    api.add_statement(guest_token, guest)
    assert api.start_run(guest_token, guest, **kwargs).status_code == status


def exploding_scorer(statement):
    raise ZeroDivisionError("secret internals")


def refusing_scorer(statement):
    raise ScoringError("This model does not score banks.")


def out_of_range_scorer(statement):
    return Score(total_score=250.0, model="Too generous")


def infinite_scorer(statement):
    return Score(total_score=50.0, model="Unbounded", model_value=float("inf"))


def custom_scorer(statement):
    return Score(total_score=12.5, model="House model v2", model_value=None, zone="watch")


@pytest.fixture
def scorer(app):
    """Return a function that configures the scorer (a function of this module) for one test."""
    default = app.config["SCORER"]

    def configure(name: str) -> None:
        app.config["SCORER"] = f"{__name__}:{name}"

    yield configure
    app.config["SCORER"] = default


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("exploding_scorer", "failed (ZeroDivisionError)"),
        ("refusing_scorer", "This model does not score banks."),
        ("out_of_range_scorer", "returned 250.0, outside 0 to 100"),
        ("no_such_scorer", "cannot be loaded"),
        ("infinite_scorer", "returned a model value that is not finite"),
    ],
)
def test_a_failing_scorer_fails_the_run_and_keeps_the_scores(
    app, api, host, host_token, guest, guest_token, scorer, name, error, caplog
):
    """Does a failing scorer leave the run failed with its error, and the scores as they were?"""
    first = api.score(guest_token, guest).json
    api.request_analytics(host_token, host, guest)
    scorer(name)

    response = api.start_run(guest_token, guest)

    assert response.status_code == 201, response.json
    run = response.json
    assert (run["status"], run["total_score"], run["analyzed_on"]) == ("failed", None, None)
    assert error in run["error"]
    assert "secret internals" not in run["error"]
    assert run["created_at"] <= run["processing_at"] <= run["updated_at"]
    connection = seen_by_host(api, host_token, host, guest)
    assert connection["total_score"] == SAFE_SCORE
    assert connection["score_updated_at"] == first["analyzed_on"]
    assert connection["active_action_type"] == "analytics_request"  # still waiting
    runs = api.get(f"/v1/organizations/{guest}/analytics", token=guest_token, requester=guest)
    assert [(r["status"], r["error"]) for r in runs.json["items"]] == [
        ("failed", run["error"]),
        ("success", None),
    ]


def test_the_configured_scorer_replaces_the_model(
    api, host, host_token, guest, guest_token, scorer
):
    scorer("custom_scorer")
    run = api.score(guest_token, guest).json
    assert (run["total_score"], run["model"], run["zone"]) == (12.5, "House model v2", "watch")
    assert seen_by_host(api, host_token, host, guest)["total_score"] == 12.5


def test_a_guest_runs_only_its_own_analytics(api, host, guest, guest_token):
    """Is an org_id other than the target refused?"""
    response = api.call(
        "POST", f"/v1/organizations/{host}/analytics", token=guest_token, requester=guest
    )
    assert response.status_code == 403
    assert error_codes(response) == ["organization_mismatch"]


@pytest.mark.parametrize("caller", ["host_on_guest", "stranger_on_guest", "stranger_as_guest"])
def test_nobody_else_runs_the_guests_analytics(api, guest, callers, caller):
    token, requester, target = callers(caller)
    response = api.call(
        "POST",
        f"/v1/organizations/{guest}/analytics",
        token=token,
        requester=requester,
        target=target,
    )
    assert response.status_code == 403


# -- reading runs: the organization itself, and its connected hosts --------------------------------


@pytest.mark.parametrize(
    ("caller", "expected_status", "expected_code"),
    [
        ("guest", 200, None),
        ("host_on_guest", 200, None),
        ("other_host_on_guest", 403, "no_connection"),
        ("stranger_as_guest", 403, "requester_forbidden"),
    ],
)
def test_the_guest_and_its_connected_hosts_read_the_runs(
    api, guest, guest_token, callers, caller, expected_status, expected_code
):
    """Host read rule: Self and Host scenarios read runs; nobody else."""
    run = api.score(guest_token, guest).json
    token, requester, target = callers(caller)
    for path in (
        f"/v1/organizations/{guest}/analytics",
        f"/v1/organizations/{guest}/analytics/{run['id']}",
    ):
        response = api.get(path, token=token, requester=requester, target=target)
        assert response.status_code == expected_status, (path, response.json)
        if expected_code:
            assert error_codes(response) == [expected_code]
    if expected_status == 200:
        listed = api.get(
            f"/v1/organizations/{guest}/analytics", token=token, requester=requester, target=target
        ).json
        assert listed == {"items": [run], "total_items": 1}


def test_a_host_never_sees_the_statement_figures(api, host, host_token, guest, guest_token):
    """Are the statements Self-only, and do the runs a host reads carry no figure?"""
    api.score(guest_token, guest, total_assets="123456.78")
    statements = api.get(
        f"/v1/organizations/{guest}/financial-statements",
        token=host_token,
        requester=host,
        target=guest,
    )
    runs = api.get(
        f"/v1/organizations/{guest}/analytics", token=host_token, requester=host, target=guest
    )
    history = api.get(
        f"/v1/guest-connections/{guest}/score-history", token=host_token, requester=host
    )
    assert statements.status_code == 403
    assert error_codes(statements) == ["scenario_not_allowed"]
    for body in (runs.json, history.json):
        assert "123456" not in json.dumps(body)
        assert "total_assets" not in json.dumps(body)


def test_a_host_that_was_left_reads_no_more_runs(api, host, host_token, guest, guest_token):
    api.score(guest_token, guest)
    api.set_host_status(guest_token, guest, host, "disconnected")
    response = api.get(
        f"/v1/organizations/{guest}/analytics", token=host_token, requester=host, target=guest
    )
    assert response.status_code == 403


def test_runs_are_listed_newest_first_paged_and_filtered(api, guest, guest_token, scorer):
    api.score(guest_token, guest)
    scorer("exploding_scorer")
    api.start_run(guest_token, guest)
    api.start_run(guest_token, guest)
    path = f"/v1/organizations/{guest}/analytics"

    everything = api.get(path, token=guest_token, requester=guest).json
    second = api.get(f"{path}?limit=1&offset=1", token=guest_token, requester=guest).json
    succeeded = api.get(f"{path}?statuses=success", token=guest_token, requester=guest).json
    bad = api.get(f"{path}?statuses=done&limit=0", token=guest_token, requester=guest)

    assert [r["status"] for r in everything["items"]] == ["failed", "failed", "success"]
    assert everything["total_items"] == 3
    assert second["items"] == [everything["items"][1]]
    assert [r["status"] for r in succeeded["items"]] == ["success"]
    assert bad.status_code == 422
    assert sorted(d["loc"][1] for d in bad.json["detail"]) == ["limit", "statuses"]


def test_an_unknown_or_another_organizations_run_is_404(
    api, guest, guest_token, make_org, token_for
):
    other = make_org("Other Guest")
    other_token = token_for(other)
    other_run = api.score(other_token, other).json
    for run_id in (other_run["id"], str(uuid.uuid4())):
        response = api.get(
            f"/v1/organizations/{guest}/analytics/{run_id}", token=guest_token, requester=guest
        )
        assert response.status_code == 404
        assert error_codes(response) == ["analytics_run_not_found"]


# -- history ------------------------------------------------------------------------------------


def test_every_score_is_kept_in_the_history(
    api, host, host_token, make_org, make_connection, token_for
):
    """Does the history list each value, newest first, starting with the recorded one?"""
    guest = make_org("Birch Ltd")
    make_connection(host, guest, score=40)
    guest_token = token_for(guest)
    for score in (55, 61.5):
        api.score(guest_token, guest, **statement_scoring(score))

    response = api.get(
        f"/v1/guest-connections/{guest}/score-history", token=host_token, requester=host
    )

    assert response.status_code == 200
    body = response.json
    assert body["total_items"] == 3
    assert [(item["total_score"], item["source"], item["model"]) for item in body["items"]] == [
        (61.5, "analytics", "Altman Z″"),
        (55, "analytics", "Altman Z″"),
        (40, "cli", "manual (command line)"),
    ]
    newest = body["items"][0]
    assert newest["run"]["id"] == newest["run_id"]
    assert (newest["run"]["zone"], newest["run"]["model_value"]) == ("grey", 2.175)
    assert body["items"][2]["run"] is None
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


def test_the_charts_scores_come_in_the_pages_one_query(
    app, host, make_org, make_connection, token_for, api, count_queries
):
    """Does the detail page's chart read its points, with their runs, in a single query?"""
    guest = make_org("Birch Ltd")
    make_connection(host, guest, score=40)
    guest_token = token_for(guest)
    api.score(guest_token, guest, **statement_scoring(55))

    with app.app_context(), count_queries() as statements:
        scores = read_connection_page(host, guest, events_limit=1, scores_limit=1).scores

    assert [(item.total_score, item.run.zone) for item in scores] == [(55, "grey")]
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
