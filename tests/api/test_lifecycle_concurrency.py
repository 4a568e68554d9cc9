"""Racing calls on PostgreSQL: one token makes one connection; one open request per guest."""

from __future__ import annotations

import os
import threading
from collections import Counter

import pytest

from app.extensions import db
from app.models import ConnectionAction, GuestConnection
from tests.api.lifecycle import invite
from tests.conftest import Api

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="needs PostgreSQL (set TEST_DATABASE_URL): SQLite serializes every writer",
    ),
]


def race(app, calls) -> list:
    """Run each call in its own thread with its own client, all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        api = Api(app.test_client())
        barrier.wait()
        response = call(api)
        results[index] = (response.status_code, response.json)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def accept_call(token, guest, host, invitation_token):
    def call(api):
        return api.call(
            "POST",
            "/v1/host-connections",
            token=token,
            requester=guest,
            json={"host_organization_id": str(host), "invitation_token": invitation_token},
        )

    return call


def test_many_guests_racing_for_one_token_make_one_connection(app, api, make_org, token_for):
    """Do simultaneous acceptances of one token connect exactly one guest?"""
    host = make_org("Host", "host@host.example")
    invitation_token = invite(api, token_for(host), host).json["invitation_token"]
    guests = [make_org(f"Guest {n}") for n in range(6)]
    calls = [accept_call(token_for(g), g, host, invitation_token) for g in guests]

    results = race(app, calls)

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 5}, results
    codes = {body["detail"][0]["code"] for status, body in results if status == 409}
    assert codes == {"invitation_already_accepted"}
    assert count(app, GuestConnection) == 1


def test_one_guest_accepting_twice_at_once_connects_once(app, api, make_org, token_for):
    """Does the same token sent twice at once by one guest make one connection?"""
    host = make_org("Host", "host@host.example")
    guest = make_org("Guest")
    invitation_token = invite(api, token_for(host), host).json["invitation_token"]
    guest_token = token_for(guest)

    results = race(app, [accept_call(guest_token, guest, host, invitation_token)] * 2)

    assert sorted(status for status, _ in results) == [201, 409], results
    assert count(app, GuestConnection) == 1


def test_two_invitations_accepted_at_once_by_one_guest_connect_once(app, api, make_org, token_for):
    host = make_org("Host", "host@host.example")
    host_token = token_for(host)
    guest = make_org("Guest")
    tokens = [
        invite(api, host_token, host, f"person{n}@guest.example").json["invitation_token"]
        for n in range(2)
    ]
    guest_token = token_for(guest)

    results = race(app, [accept_call(guest_token, guest, host, t) for t in tokens])

    assert sorted(status for status, _ in results) == [201, 409], results
    assert count(app, GuestConnection) == 1


def test_racing_analytics_requests_open_one_action(app, make_org, make_connection, token_for):
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest)
    host_token = token_for(host)

    def ask(api):
        return api.call(
            "POST",
            f"/v1/organizations/{guest}/analytics/requests",
            token=host_token,
            requester=host,
        )

    results = race(app, [ask] * 4)

    assert Counter(status for status, _ in results) == {201: 1, 409: 3}, results
    assert count(app, ConnectionAction) == 1
