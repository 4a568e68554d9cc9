"""/v1/guest-invitations: inviting, listing, resending and archiving; the token's life."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import GuestConnection, GuestInvitation, OutboxMessage
from tests.conftest import RFC3339_UTC, error_codes, in_days, race, row_count

INVITATION_FIELDS = [
    "id",
    "host_organization_id",
    "email",
    "owner_email",
    "first_invitation_sent_at",
    "last_invitation_sent_at",
    "expired_at",
    "expired",
    "status",
    "archived",
    "created_at",
    "updated_at",
    "accepted_at",
    "archived_at",
    "guest_organization_id",
    "parent_organization_id",
    "parent_organization_name",
]


def expire(app, invitation_id: str) -> None:
    """Move an invitation's expiry into the past, as time passing would."""
    with app.app_context():
        invitation = db.session.get(GuestInvitation, uuid.UUID(invitation_id))
        invitation.expired_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()


def test_creating_returns_the_invitation_with_a_one_time_token(
    app, api, host, host_token, make_org, make_connection
):
    """Does the host get the contract's fields, the token and the link to send?"""
    group = make_org("Helios Holdings")
    make_connection(host, make_org("Helios Retail", parent=group))  # a parent the host knows
    response = api.invite(
        host_token, host, "Finance@Alder.example", parent_organization_id=str(group)
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert list(body) == [*INVITATION_FIELDS, "invitation_token", "invitation_url"]
    assert body["host_organization_id"] == str(host)
    assert body["email"] == "finance@alder.example"
    assert body["owner_email"] == "hello@northwind.example"  # default: the host's e-mail
    assert body["status"] == "sent"
    assert body["expired"] is False and body["archived"] is False
    assert body["accepted_at"] is None and body["guest_organization_id"] is None
    assert body["parent_organization_id"] == str(group)
    assert body["parent_organization_name"] == "Helios Holdings"
    assert body["first_invitation_sent_at"] == body["last_invitation_sent_at"]
    for field in ("first_invitation_sent_at", "expired_at", "created_at", "updated_at"):
        assert RFC3339_UTC.match(body[field]), field
    token = body["invitation_token"]
    assert len(token) >= 40
    assert body["invitation_url"].endswith(f"/invitations/accept?token={token}")
    with app.app_context():
        stored = db.session.get(GuestInvitation, uuid.UUID(body["id"]))
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in stored.token_hash


def test_the_token_is_never_shown_again(api, host, host_token):
    """Do reads of an invitation leave the token out?"""
    created = api.invite(host_token, host).json

    one = api.get(f"/v1/guest-invitations/{created['id']}", token=host_token, requester=host)
    listed = api.get("/v1/guest-invitations", token=host_token, requester=host)

    assert one.status_code == 200
    assert list(one.json) == INVITATION_FIELDS
    assert "invitation_token" not in listed.json["items"][0]
    assert created["invitation_token"] not in one.get_data(as_text=True)


def test_owner_email_can_be_given(api, make_org, token_for):
    """Can a host without an e-mail name the person responsible instead?"""
    host = make_org("No Mail Host")
    token = token_for(host)

    given = api.invite(token, host, owner_email="Sales@Host.example")

    assert given.status_code == 201
    assert given.json["owner_email"] == "sales@host.example"


def test_a_host_with_no_e_mail_invites_with_the_originals_body(
    api, make_org, make_connection, token_for
):
    """Does the original's body (email, expired_at, parent) work for a host with no e-mail,
    making a connection whose owner_email is null?"""
    host, group = make_org("No Mail Host"), make_org("Helios Holdings")
    # A parent the host knows: the group of one of its guests.
    make_connection(host, make_org("Helios Retail", parent=group), owner_email="sales@host.example")
    guest = make_org("Alder Foods")
    token, guest_token = token_for(host), token_for(guest)

    invited = api.call(
        "POST",
        "/v1/guest-invitations",
        token=token,
        requester=host,
        json={
            "email": "finance@alder.example",
            "expired_at": in_days(7),
            "parent_organization_id": str(group),
        },
    )
    assert invited.status_code == 201, invited.json
    assert invited.json["owner_email"] is None
    accepted = api.accept(guest_token, guest, host, invited.json["invitation_token"])
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["owner_email"] is None
    connection = api.get(f"/v1/guest-connections/{guest}", token=token, requester=host).json
    assert (connection["owner_email"], connection["parent_organization_name"]) == (
        None,
        "Helios Holdings",
    )
    listed = api.get(
        "/v1/guest-connections?order_by=owner_email&order_dir=desc", token=token, requester=host
    )
    assert [item["owner_email"] for item in listed.json["items"]] == ["sales@host.example", None]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"email": "guest@alder.example", "expired_at": in_days(-1)}, ["body", "expired_at"]),
        ({"email": "guest@alder.example", "expired_at": in_days(400)}, ["body", "expired_at"]),
        ({"email": "not-an-email", "expired_at": in_days(1)}, ["body", "email"]),
        ({"email": "g@", "expired_at": in_days(1)}, ["body", "email"]),
        ({"email": "guest@alder.example", "expired_at": "tomorrow"}, ["body", "expired_at"]),
        ({"expired_at": in_days(1)}, ["body", "email"]),
        (
            {"email": "guest@alder.example", "expired_at": in_days(1), "colour": "red"},
            ["body", "colour"],
        ),
        (
            {
                "email": "guest@alder.example",
                "expired_at": in_days(1),
                "parent_organization_id": str(uuid.uuid4()),
            },
            ["body", "parent_organization_id"],
        ),
    ],
)
def test_invalid_invitations_are_422(api, host, host_token, body, loc):
    """Is each bad field refused with its location?"""
    response = api.call(
        "POST", "/v1/guest-invitations", token=host_token, requester=host, json=body
    )
    assert response.status_code == 422
    assert error_codes(response)[0] == "validation_error"
    assert loc in [item["loc"] for item in response.json["detail"]]


def test_every_missing_field_is_listed(api, host, host_token):
    response = api.call("POST", "/v1/guest-invitations", token=host_token, requester=host, json={})
    assert response.status_code == 422
    locs = [item["loc"] for item in response.json["detail"]]
    assert ["body", "email"] in locs and ["body", "expired_at"] in locs


def test_a_body_that_is_not_json_is_415(api, host, host_token):
    response = api.call(
        "POST", "/v1/guest-invitations", token=host_token, requester=host, data="email=x"
    )
    assert response.status_code == 415
    assert error_codes(response) == ["unsupported_media_type"]


def test_a_second_open_invitation_to_one_email_is_refused(api, host, host_token):
    """Is the host told to resend rather than invite twice?"""
    assert api.invite(host_token, host, "guest@alder.example").status_code == 201
    again = api.invite(host_token, host, "GUEST@alder.example")
    assert again.status_code == 409
    assert error_codes(again) == ["invitation_already_pending"]


def test_an_expired_invitation_does_not_block_a_new_one(app, api, host, host_token):
    first = api.invite(host_token, host).json
    expire(app, first["id"])
    assert api.invite(host_token, host).status_code == 201


def test_expired_is_computed(app, api, host, host_token, make_org, token_for):
    """Does an invitation show as expired once its time passed, and refuse acceptance?"""
    created = api.invite(host_token, host).json
    expire(app, created["id"])

    body = api.get(f"/v1/guest-invitations/{created['id']}", token=host_token, requester=host).json
    guest = make_org("Alder Foods")
    response = api.accept(token_for(guest), guest, host, created["invitation_token"])

    assert body["expired"] is True
    assert response.status_code == 409
    assert error_codes(response) == ["invitation_expired"]


def test_list_filters_sorts_and_pages(app, api, host, host_token, make_org, token_for):
    """Do the list's filters, search, order and paging work together?"""
    for name in ("carol", "alice", "bob", "dave"):
        api.invite(host_token, host, f"{name}@guests.example")
    ids = {
        item["email"]: item["id"]
        for item in api.get(
            "/v1/guest-invitations?limit=100", token=host_token, requester=host
        ).json["items"]
    }
    expire(app, ids["dave@guests.example"])
    api.set_invitation_archived(host_token, host, ids["carol@guests.example"], True)
    guest = make_org("Bob's Org")
    listed_token = api.invite(host_token, host, "erin@guests.example").json["invitation_token"]
    api.accept(token_for(guest), guest, host, listed_token)

    def emails(query: str) -> list[str]:
        response = api.get(f"/v1/guest-invitations?{query}", token=host_token, requester=host)
        assert response.status_code == 200, response.json
        return [item["email"].split("@")[0] for item in response.json["items"]]

    assert emails("order_by=email") == ["alice", "bob", "carol", "dave", "erin"]
    assert emails("order_by=email&order_dir=desc&limit=2&offset=1") == ["dave", "carol"]
    assert emails("order_by=email&expired=true") == ["dave"]
    assert emails("order_by=email&archived=true") == ["carol"]
    assert emails("order_by=email&archived=false&expired=false&statuses=sent") == [
        "alice",
        "bob",
    ]
    assert emails("statuses=accepted_by_guest") == ["erin"]
    assert emails("search_text=AL") == ["alice"]
    total = api.get("/v1/guest-invitations?limit=1", token=host_token, requester=host).json
    assert total["total_items"] == 5 and len(total["items"]) == 1


def test_the_host_walks_its_invitations_by_cursor_and_since(api, host, host_token):
    """Does the invitation list page by cursor, and keep only those changed since a moment?"""
    for name in ("carol", "alice", "bob"):
        api.invite(host_token, host, f"{name}@guests.example")

    def page(query: str):
        response = api.get(f"/v1/guest-invitations?{query}", token=host_token, requester=host)
        assert response.status_code == 200, response.json
        return response.json

    first = page("order_by=email&limit=2")
    second = page(f"order_by=email&limit=2&cursor={first['next_cursor']}")
    walked = [item["email"] for item in first["items"] + second["items"]]
    assert walked == ["alice@guests.example", "bob@guests.example", "carol@guests.example"]
    assert second["next_cursor"] is None
    newest = max(item["updated_at"] for item in first["items"] + second["items"])
    assert [item["email"] for item in page(f"updated_since={newest}")["items"]] == [
        "bob@guests.example"
    ]


@pytest.mark.parametrize(
    "query",
    ["statuses=lost", "order_by=colour", "limit=0", "limit=101", "offset=-1", "expired=maybe"],
)
def test_bad_list_queries_are_422(api, host, host_token, query):
    response = api.get(f"/v1/guest-invitations?{query}", token=host_token, requester=host)
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"][0] == "query"


def test_resend_gives_a_new_token_and_kills_the_old(api, host, host_token, make_org, token_for):
    """After a resend, does only the new link work, and does the sent time move?"""
    created = api.invite(host_token, host).json

    resent = api.resend(host_token, host, created["id"])

    assert resent.status_code == 200, resent.json
    body = resent.json
    assert body["invitation_token"] != created["invitation_token"]
    assert body["last_invitation_sent_at"] > created["last_invitation_sent_at"]
    assert body["first_invitation_sent_at"] == created["first_invitation_sent_at"]
    assert body["expired_at"] == created["expired_at"]
    guest = make_org("Alder Foods")
    guest_token = token_for(guest)
    old = api.accept(guest_token, guest, host, created["invitation_token"])
    assert old.status_code == 404
    assert error_codes(old) == ["guest_invitation_not_found"]
    assert api.accept(guest_token, guest, host, body["invitation_token"]).status_code == 201


def test_an_expired_invitation_is_resent_with_a_new_expiry(app, api, host, host_token):
    created = api.invite(host_token, host).json
    expire(app, created["id"])

    without = api.resend(host_token, host, created["id"])
    with_expiry = api.resend(host_token, host, created["id"], expired_at=in_days(3))

    assert without.status_code == 409
    assert error_codes(without) == ["invitation_expired"]
    assert with_expiry.status_code == 200
    assert with_expiry.json["expired"] is False


def test_accepted_or_archived_invitations_are_not_resent(
    api, host, host_token, make_org, token_for
):
    accepted = api.invite(host_token, host, "a@guests.example").json
    guest = make_org("Guest")
    api.accept(token_for(guest), guest, host, accepted["invitation_token"])
    archived = api.invite(host_token, host, "b@guests.example").json
    api.set_invitation_archived(host_token, host, archived["id"], True)

    for invitation, code in (
        (accepted, "invitation_already_accepted"),
        (archived, "invitation_archived"),
    ):
        response = api.resend(host_token, host, invitation["id"])
        assert response.status_code == 409
        assert error_codes(response) == [code]


def test_archiving_withdraws_the_invitation(api, host, host_token, guest, guest_token):
    """Does an archived invitation refuse its token, and unarchiving restore it?"""
    created = api.invite(host_token, host).json

    archived = api.set_invitation_archived(host_token, host, created["id"], True)
    refused = api.accept(guest_token, guest, host, created["invitation_token"])
    again = api.set_invitation_archived(host_token, host, created["id"], True)
    restored = api.set_invitation_archived(host_token, host, created["id"], False)

    assert archived.status_code == 200
    assert archived.json["archived"] is True and RFC3339_UTC.match(archived.json["archived_at"])
    assert refused.status_code == 409 and error_codes(refused) == ["invitation_archived"]
    assert again.json["archived_at"] == archived.json["archived_at"]
    assert restored.json["archived"] is False and restored.json["archived_at"] is None
    assert api.accept(guest_token, guest, host, created["invitation_token"]).status_code == 201


@pytest.mark.parametrize("body", [{}, {"archived": "soon"}, {"archived": True, "email": "x@y.z"}])
def test_bad_archive_bodies_are_422(api, host, host_token, body):
    created = api.invite(host_token, host).json
    response = api.call(
        "PATCH",
        f"/v1/guest-invitations/{created['id']}",
        token=host_token,
        requester=host,
        json=body,
    )
    assert response.status_code == 422


# -- accepted_by_system -------------------------------------------------------------------------


def test_inviting_a_connected_guest_is_accepted_by_the_system(
    api, host, host_token, make_org, make_connection, signed_in
):
    """Is an invitation to a guest already connected closed at once, with no token?

    By the guest's e-mail (an operator's word proves it) or a member's that the sign-in
    provider verified.
    """
    guest = make_org("Alder Foods", "finance@alder.example")
    signed_in(guest, "cfo@alder.example", role="member")
    make_connection(host, guest)

    by_org_email = api.invite(host_token, host, "finance@alder.example")
    by_member_email = api.invite(host_token, host, "CFO@alder.example")

    for response in (by_org_email, by_member_email):
        assert response.status_code == 201
        body = response.json
        assert body["status"] == "accepted_by_system"
        assert body["guest_organization_id"] == str(guest)
        assert RFC3339_UTC.match(body["accepted_at"])
        assert body["invitation_token"] is None and body["invitation_url"] is None


def test_an_unproven_member_email_closes_nothing(
    api, host, host_token, make_org, make_connection, make_member
):
    """A member added by e-mail who never signed in proves nothing: the invitation waits."""
    guest = make_org("Alder Foods")
    make_member(guest, "cfo@alder.example")
    make_connection(host, guest)

    response = api.invite(host_token, host, "cfo@alder.example")

    assert response.status_code == 201
    assert response.json["status"] == "sent"
    assert response.json["invitation_token"]


def test_connecting_by_cli_accepts_open_invitations_by_the_system(
    api, host, host_token, make_org, make_connection
):
    """When an operator connects the guest, do the host's open invitations to it close?"""
    guest = make_org("Alder Foods", "finance@alder.example")
    created = api.invite(host_token, host, "finance@alder.example").json
    other = api.invite(host_token, host, "someone@else.example").json

    make_connection(host, guest)

    def status(invitation):
        path = f"/v1/guest-invitations/{invitation['id']}"
        return api.get(path, token=host_token, requester=host).json["status"]

    assert status(created) == "accepted_by_system"
    assert status(other) == "sent"


def test_accepting_one_invitation_closes_the_others_to_the_same_guest(
    api, host, host_token, make_org, make_member, token_for
):
    guest = make_org("Alder Foods", "finance@alder.example")
    make_member(guest, "cfo@alder.example")
    to_org = api.invite(host_token, host, "finance@alder.example").json
    to_member = api.invite(host_token, host, "cfo@alder.example").json

    api.accept(token_for(guest), guest, host, to_member["invitation_token"])

    statuses = {
        item["email"]: item["status"]
        for item in api.get("/v1/guest-invitations", token=host_token, requester=host).json["items"]
    }
    assert statuses == {
        "finance@alder.example": "accepted_by_system",
        "cfo@alder.example": "accepted_by_guest",
    }
    assert to_org["invitation_token"]


# -- who may call -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected_status", "expected_code"),
    [
        ("host", 200, None),
        ("other_host", 404, "guest_invitation_not_found"),
        ("guest_on_host", 403, "scenario_not_allowed"),
        ("stranger_on_host", 403, "scenario_not_allowed"),
        ("stranger_as_host", 403, "requester_forbidden"),
    ],
)
def test_only_the_host_itself_reads_its_invitation(
    api, host, host_token, pair, callers, caller, expected_status, expected_code
):
    """Is the invitation the host's alone, even for its connected guest?"""
    created = api.invite(host_token, host).json
    token, requester, target = callers(caller)

    response = api.get(
        f"/v1/guest-invitations/{created['id']}", token=token, requester=requester, target=target
    )

    assert response.status_code == expected_status
    if expected_code:
        assert error_codes(response) == [expected_code]


@pytest.mark.parametrize("caller", ["guest_on_host", "stranger_on_host"])
def test_nobody_else_invites_or_lists_for_the_host(api, pair, callers, caller):
    token, requester, target = callers(caller)
    created = api.call(
        "POST",
        "/v1/guest-invitations",
        token=token,
        requester=requester,
        target=target,
        json={"email": "x@y.example", "expired_at": in_days(1)},
    )
    listed = api.get("/v1/guest-invitations", token=token, requester=requester, target=target)
    assert created.status_code == listed.status_code == 403


def test_another_hosts_list_is_its_own(api, host, host_token, callers):
    api.invite(host_token, host)
    token, other, _ = callers("other_host")
    response = api.get("/v1/guest-invitations", token=token, requester=other)
    assert response.json == {"items": [], "total_items": 0, "next_cursor": None}


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("POST", "/resend", {}), ("PATCH", "", {"archived": True})],
)
def test_another_host_cannot_change_the_invitation(
    api, host, host_token, callers, method, suffix, body
):
    created = api.invite(host_token, host).json
    token, other, _ = callers("other_host")
    response = api.call(
        method,
        f"/v1/guest-invitations/{created['id']}{suffix}",
        token=token,
        requester=other,
        json=body,
    )
    assert response.status_code == 404
    assert error_codes(response) == ["guest_invitation_not_found"]


def test_without_a_token_it_is_401(api, host):
    response = api.get("/v1/guest-invitations", token=None, requester=host)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_invitation_id_is_422(api, host, host_token):
    response = api.get("/v1/guest-invitations/not-a-uuid", token=host_token, requester=host)
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["path", "invitation_id"]


# -- racing acceptances (PostgreSQL: SQLite serializes every writer) ------------------------------


def accept_call(token, guest, host, invitation_token):
    """Return a call for race(): the guest accepts the invitation."""

    def call(api):
        return api.accept(token, guest, host, invitation_token)

    return call


@pytest.mark.postgres_only
def test_many_guests_racing_for_one_token_make_one_connection(app, api, make_org, token_for):
    """Do simultaneous acceptances of one token connect exactly one guest?"""
    host = make_org("Host", "host@host.example")
    invitation_token = api.invite(token_for(host), host).json["invitation_token"]
    guests = [make_org(f"Guest {n}") for n in range(6)]
    calls = [accept_call(token_for(g), g, host, invitation_token) for g in guests]

    results = race(app, calls)

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 5}, results
    codes = {body["detail"][0]["code"] for status, body in results if status == 409}
    assert codes == {"invitation_already_accepted"}
    assert row_count(app, GuestConnection) == 1


@pytest.mark.postgres_only
def test_one_guest_accepting_twice_at_once_connects_once(app, api, make_org, token_for):
    """Does the same token sent twice at once by one guest make one connection?"""
    host = make_org("Host", "host@host.example")
    guest = make_org("Guest")
    invitation_token = api.invite(token_for(host), host).json["invitation_token"]
    guest_token = token_for(guest)

    results = race(app, [accept_call(guest_token, guest, host, invitation_token)] * 2)

    assert sorted(status for status, _ in results) == [201, 409], results
    assert row_count(app, GuestConnection) == 1


@pytest.mark.postgres_only
def test_two_invitations_accepted_at_once_by_one_guest_connect_once(app, api, make_org, token_for):
    host = make_org("Host", "host@host.example")
    host_token = token_for(host)
    guest = make_org("Guest")
    tokens = [
        api.invite(host_token, host, f"person{n}@guest.example").json["invitation_token"]
        for n in range(2)
    ]
    guest_token = token_for(guest)

    results = race(app, [accept_call(guest_token, guest, host, t) for t in tokens])

    assert sorted(status for status, _ in results) == [201, 409], results
    assert row_count(app, GuestConnection) == 1


# -- the invitation e-mail ------------------------------------------------------------------------


def test_an_invitation_is_e_mailed_with_host_expiry_and_link(
    api, app, host, host_token, smtp_server, run_worker, monkeypatch
):
    """Through a real SMTP server: to the invitee, the host's name, the expiry, the link."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://connections.example.com")
    created = api.invite(host_token, host, "cfo@bigcustomer.example").json
    assert created["invitation_url"].startswith("https://connections.example.com/invitations/")

    assert run_worker().sent == 1

    [message] = smtp_server.messages
    assert message["To"] == "cfo@bigcustomer.example"
    assert message["Subject"] == "Northwind Supplies invites you to connect on Guest Connections"
    body = message.get_content()
    assert created["invitation_url"] in body
    expiry = datetime.fromisoformat(created["expired_at"])
    assert expiry.strftime("%d %B %Y") in body
    with app.app_context():  # the token rested encrypted, and is gone once sent
        stored = db.session.scalar(db.select(OutboxMessage))
        assert stored.secret_encrypted is None
        assert created["invitation_token"] not in stored.body


def test_resending_e_mails_the_new_link(api, app, host, host_token, smtp_server, run_worker):
    created = api.invite(host_token, host, "cfo@bigcustomer.example").json
    resent = api.resend(host_token, host, created["id"]).json
    run_worker()
    first, second = smtp_server.bodies()
    assert created["invitation_url"] in first
    assert resent["invitation_url"] in second and created["invitation_url"] not in second


def test_no_e_mail_when_the_invitee_is_already_a_guest(
    api, pair, host_token, smtp_server, run_worker
):
    host, _ = pair
    assert api.invite(host_token, host, "finance@alder.example").json["status"] == (
        "accepted_by_system"
    )
    run_worker()
    assert smtp_server.messages == []


@pytest.fixture
def parents(host, make_org, make_connection, token_for) -> dict:
    """Organizations a host may or may not name as parent; returns {description: id}."""
    group = make_org("Helios Holdings")
    guest = make_org("Helios Retail", parent=group)
    make_connection(host, guest)
    recorded = make_org("Recorded Group")
    make_connection(host, make_org("Pine Mills"), parent=recorded)
    other_host = make_org("Secret Competitor Ltd")
    make_connection(other_host, make_org("Their Guest"))
    return {
        "itself": host,
        "a guest": guest,
        "a guest's own parent": group,
        "a parent recorded on a connection": recorded,
        "another host": other_host,
        "nobody": uuid.uuid4(),
    }


@pytest.mark.parametrize(
    ("parent", "allowed"),
    [
        ("itself", True),
        ("a guest", True),
        ("a guest's own parent", True),
        ("a parent recorded on a connection", True),
        ("another host", False),
        ("nobody", False),
    ],
)
def test_a_host_names_as_parent_only_an_organization_it_knows(
    api, host, host_token, parents, parent, allowed
):
    """Is another host's id refused exactly like an unknown id, never revealing its name?"""
    response = api.invite(host_token, host, parent_organization_id=str(parents[parent]))
    if allowed:
        assert response.status_code == 201, response.json
        return
    assert response.status_code == 422
    assert "Secret Competitor" not in response.get_data(as_text=True)
    [problem] = response.json["detail"]
    assert problem["loc"] == ["body", "parent_organization_id"]
    assert problem["msg"].startswith("Name as parent your own organization")


def test_the_cli_refuses_an_unknown_parent_alike(runner, host, parents):
    """Does `flask invitations create --parent` apply the same rule and message?"""
    for parent in ("another host", "nobody"):
        result = runner.invoke(
            args=[
                "invitations", "create", "--host", str(host), "--email", "g@alder.example",
                "--parent", str(parents[parent]),
            ]
        )  # fmt: skip
        assert result.exit_code == 1
        assert "Name as parent your own organization" in result.output
        assert "Secret Competitor" not in result.output
