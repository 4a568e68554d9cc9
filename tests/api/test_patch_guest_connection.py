"""PATCH /v1/guest-connections/{guest_org_id}: archive, unarchive, and every refusal of the body."""

from __future__ import annotations

import uuid

import pytest

from app import audit, connections
from app.extensions import db
from app.models import ActorKind, AuditEvent, GuestConnection
from tests.conftest import error_codes


@pytest.fixture
def pair(make_org, make_connection):
    host, guest = make_org("Northwind Supplies"), make_org("Alder Foods")
    make_connection(host, guest)
    return host, guest


@pytest.fixture
def patch(api, token_for, pair):
    """Return a function that sends a PATCH for the pair's connection as the host."""
    host, guest = pair
    token = token_for(host)

    def send(guest_id=guest, **kwargs):
        return api.call(
            "PATCH", f"/v1/guest-connections/{guest_id}", token=token, requester=host, **kwargs
        )

    return send


def archive_events(app, organization_id) -> list[str]:
    """Return the actions of the organization's archive and unarchive events, newest first."""
    with app.app_context():
        return [
            event.action
            for event in audit.list_events(organization_id)
            if event.action in ("guest_connection.archived", "guest_connection.unarchived")
        ]


def test_archive_then_unarchive(patch, api, token_for, pair):
    """Does archiving set archived_at and move updated_at, and unarchiving clear it?"""
    host, guest = pair
    before = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host).json

    archived = patch(json={"archived": True})
    assert archived.status_code == 200
    assert archived.json["archived"] is True
    assert archived.json["archived_at"] is not None
    assert archived.json["updated_at"] > before["updated_at"]
    assert archived.json["updated_at"] == archived.json["archived_at"]
    assert {
        k: v for k, v in archived.json.items() if k not in ("archived", "archived_at", "updated_at")
    } == {k: v for k, v in before.items() if k not in ("archived", "archived_at", "updated_at")}

    unarchived = patch(json={"archived": False})
    assert unarchived.status_code == 200
    assert unarchived.json["archived"] is False
    assert unarchived.json["archived_at"] is None
    assert unarchived.json["updated_at"] > archived.json["updated_at"]

    again = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host).json
    assert again == unarchived.json


@pytest.mark.parametrize("archived", [True, False])
def test_repeating_changes_nothing(app, patch, pair, archived):
    """Does sending the same request again keep every timestamp and add no audit event?"""
    host, _ = pair
    first = patch(json={"archived": archived})
    second = patch(json={"archived": archived})
    assert first.status_code == second.status_code == 200
    assert second.json == first.json
    # Unarchiving a connection that is not archived is already a no-op the first time.
    expected = ["guest_connection.archived"] if archived else []
    assert archive_events(app, host) == expected


@pytest.mark.parametrize(
    ("kwargs", "status", "locations"),
    [
        ({"data": '{"archived": true}'}, 415, [[]]),
        ({"data": '{"archived": true}', "content_type": "text/plain"}, 415, [[]]),
        ({"data": "archived=true", "content_type": "application/x-www-form-urlencoded"}, 415, [[]]),
        ({"data": "{archived: true}", "content_type": "application/json"}, 422, [["body"]]),
        ({"data": "", "content_type": "application/json"}, 422, [["body"]]),
        ({"data": b"\xff\xfe\x00", "content_type": "application/json"}, 422, [["body"]]),
        ({"data": "null", "content_type": "application/json"}, 422, [["body"]]),
        ({"json": [True]}, 422, [["body"]]),
        ({"json": {}}, 422, [["body", "archived"]]),
        ({"json": {"archived": "yes"}}, 422, [["body", "archived"]]),
        ({"json": {"archived": "true"}}, 422, [["body", "archived"]]),
        ({"json": {"archived": 1}}, 422, [["body", "archived"]]),
        ({"json": {"archived": None}}, 422, [["body", "archived"]]),
        ({"json": {"archived": True, "status": "disconnected"}}, 422, [["body", "status"]]),
    ],
)
def test_body_errors(app, patch, pair, kwargs, status, locations):
    """Is a body that is not JSON 415, and an invalid one 422 naming the field, changing nothing?"""
    host, _ = pair
    response = patch(**kwargs)
    assert response.status_code == status
    assert [item["loc"] for item in response.json["detail"]] == locations
    expected_code = "unsupported_media_type" if status == 415 else "validation_error"
    assert error_codes(response) == [expected_code]
    assert archive_events(app, host) == []


def test_json_with_charset_is_json(patch):
    response = patch(data='{"archived": true}', content_type="application/json; charset=utf-8")
    assert response.status_code == 200


def test_unknown_guest_is_404(patch):
    response = patch(guest_id=uuid.uuid4(), json={"archived": True})
    assert response.status_code == 404
    assert error_codes(response) == ["guest_connection_not_found"]


def test_bad_path_and_body_are_reported_together(patch):
    response = patch(guest_id="nope", json={"archived": "nope"})
    assert response.status_code == 422
    assert [item["loc"] for item in response.json["detail"]] == [
        ["path", "guest_org_id"],
        ["body", "archived"],
    ]


def test_archive_is_one_transaction_with_its_audit_event(app, pair):
    """If the audit event cannot be written, is the connection left exactly as it was?"""
    host, guest = pair
    broken = audit.Actor(ActorKind.USER, "someone", "")  # violates the label's length check
    with app.app_context():
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            connections.set_archived(host, guest, True, actor=broken)
        db.session.rollback()
        connection = db.session.scalar(
            db.select(GuestConnection).where(GuestConnection.guest_organization_id == guest)
        )
        assert connection.archived is False and connection.archived_at is None
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "guest_connection.archived")
            )
            == 0
        )
