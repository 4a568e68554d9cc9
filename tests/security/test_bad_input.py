"""Bad input never harms others: no control character in any name, e-mail or free text, and a
total score from 0 to 100, in the API, the CLI and the database (the pages: tests/web)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import GuestConnection, Organization
from tests.conftest import in_days, row_count

CONTROLS = ["\r\n", "\n", "\r", "\t", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"]


# -- the API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("field", ["email", "owner_email"])
def test_the_api_refuses_control_characters_in_an_invitation(api, host, host_token, field, control):
    """Is an e-mail with CR/LF (a header injection) or another control a 422 at its field?"""
    body = {"email": "guest@alder.example", "expired_at": in_days(7)}
    body[field] = f"guest@alder.example{control}Bcc: all@victim.example"
    response = api.call(
        "POST", "/v1/guest-invitations", token=host_token, requester=host, json=body
    )
    assert response.status_code == 422
    assert ["body", field] in [problem["loc"] for problem in response.json["detail"]]
    assert "control characters" in response.get_data(as_text=True)


def test_the_api_takes_no_typed_score(api, pair, token_for):
    """Scores are computed by runs (issue 12); a typed one, in range or not, is a 422."""
    host, guest = pair
    for score in (42.5, 101, -0.5):
        response = api.start_run(token_for(guest), guest, json={"total_score": score})
        assert response.status_code == 422
        assert ["body", "total_score"] in [problem["loc"] for problem in response.json["detail"]]


def test_the_openapi_document_says_0_to_100(client):
    """Does every score the API answers with say it is a number from 0 to 100?"""
    schemas = client.get("/v1/openapi.json").json["components"]["schemas"]
    for model in ("ScoreChange", "AnalyticsRun", "GuestConnection"):
        score = schemas[model]["properties"]["total_score"]
        number = next(s for s in score.get("anyOf", [score]) if s.get("type") == "number")
        assert (number["minimum"], number["maximum"]) == (0, 100), model


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["orgs", "create", "--name", "Evil\r\nLtd"],
        ["orgs", "create", "--name", "Evil Ltd", "--email", "a@b.example\nBcc: x@y.example"],
        ["members", "add", "--org", "{org}", "--email", "a@b.example", "--name", "A\x00B"],
        ["api-clients", "create", "--org", "{org}", "--name", "ERP\tintegration"],
        ["invitations", "create", "--host", "{org}", "--email", "a@b.example\r\n"],
    ],
    ids=["org name", "org e-mail", "member name", "client name", "invited e-mail"],
)
def test_the_cli_refuses_control_characters_with_one_line(app, runner, host, args):
    before = row_count(app, Organization)
    result = runner.invoke(args=[arg.format(org=host) for arg in args])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "control characters" in result.output
    assert row_count(app, Organization) == before


@pytest.mark.parametrize("score", ["100.5", "-1", "1e9", "nan"])
def test_the_cli_refuses_a_score_outside_0_to_100(runner, host, guest, score):
    result = runner.invoke(
        args=[
            "connections", "add", "--host", str(host), "--guest", str(guest),
            "--owner-email", "o@host.example", "--score", score,
        ]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "from 0 to 100" in result.output


# -- the database ---------------------------------------------------------------------------------


@pytest.mark.parametrize("score", [100.5, -1.0])
def test_the_database_refuses_a_score_outside_0_to_100(app, pair, score):
    """Does the check constraint hold even for a write that skips every service?"""
    host, guest = pair
    with app.app_context():
        connection = db.session.get(GuestConnection, _connection_id(host, guest))
        connection.total_score = score
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def _connection_id(host, guest):
    return db.session.scalar(
        db.select(GuestConnection.id).where(
            GuestConnection.host_organization_id == host,
            GuestConnection.guest_organization_id == guest,
        )
    )
