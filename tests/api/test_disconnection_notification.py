"""POST /v1/guest-connections/{guest_org_id}/disconnection-notification: telling a guest."""

from __future__ import annotations

import uuid

import pytest

from app.extensions import db
from app.models import OutboxMessage
from tests.conftest import error_codes


@pytest.fixture
def host(make_org):
    return make_org("Northwind Supplies", "hello@northwind.example")


@pytest.fixture
def host_token(token_for, host):
    return token_for(host)


def notify(api, token, host, guest, target=None):
    return api.call(
        "POST",
        f"/v1/guest-connections/{guest}/disconnection-notification",
        token=token,
        requester=host,
        target=target,
    )


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage)).all()
        db.session.expunge_all()
        return rows


def test_a_disconnected_guest_is_notified_through_the_outbox(
    app, api, host, host_token, make_org, make_connection
):
    """Does notifying queue one message to the guest and answer 202 with it?"""
    guest = make_org("Alder Foods", "finance@alder.example")
    make_connection(host, guest, status="disconnected", owner_email="sales@northwind.example")

    response = notify(api, host_token, host, guest)

    assert response.status_code == 202, response.json
    body = response.json
    assert body["recipient_email"] == "finance@alder.example"
    assert body["host_organization_id"] == str(host)
    assert body["guest_organization_id"] == str(guest)
    assert body["sent_at"] is None
    [message] = outbox(app)
    assert str(message.id) == body["id"]
    assert message.kind == "disconnection_notification"
    assert "Northwind Supplies" in message.subject
    assert "sales@northwind.example" in message.body


def test_a_connected_guest_is_not_notified(app, api, host, host_token, make_org, make_connection):
    guest = make_org("Alder Foods", "finance@alder.example")
    make_connection(host, guest)
    response = notify(api, host_token, host, guest)
    assert response.status_code == 409
    assert error_codes(response) == ["guest_connection_not_disconnected"]
    assert outbox(app) == []


def test_a_guest_without_email_is_written_to_its_owner(
    api, host, host_token, make_org, make_connection, make_member
):
    guest = make_org("Quiet Co")
    make_connection(host, guest, status="disconnected")
    assert error_codes(notify(api, host_token, host, guest)) == ["guest_email_unknown"]

    make_member(guest, "boss@quiet.example", role="owner")

    assert notify(api, host_token, host, guest).json["recipient_email"] == "boss@quiet.example"


@pytest.mark.parametrize(
    ("caller", "expected_status", "expected_code"),
    [
        ("other_host", 404, "guest_connection_not_found"),
        ("guest_on_host", 403, "scenario_not_allowed"),
        ("stranger_on_host", 403, "scenario_not_allowed"),
        ("stranger_as_host", 403, "requester_forbidden"),
    ],
)
def test_only_the_host_itself_notifies(
    app, api, host, make_org, make_connection, token_for, caller, expected_status, expected_code
):
    guest = make_org("Alder Foods", "finance@alder.example")
    make_connection(host, guest, status="disconnected")
    other_host, stranger = make_org("Other Host"), make_org("Stranger")
    token, requester, target = {
        "other_host": (token_for(other_host), other_host, other_host),
        "guest_on_host": (token_for(guest), guest, host),
        "stranger_on_host": (token_for(stranger), stranger, host),
        "stranger_as_host": (token_for(stranger), host, host),
    }[caller]

    response = notify(api, token, requester, guest, target=target)

    assert response.status_code == expected_status
    assert error_codes(response) == [expected_code]
    assert outbox(app) == []


def test_an_unknown_guest_is_404(api, host, host_token):
    response = notify(api, host_token, host, uuid.uuid4())
    assert response.status_code == 404
