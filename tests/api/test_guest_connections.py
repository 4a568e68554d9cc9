"""/v1/guest-connections: reading, listing, archiving, and notifying a guest that left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import GuestConnection, OutboxMessage
from app.services import audit
from tests.api.conftest import ORDER_FIELDS
from tests.conftest import RFC3339_UTC, error_codes

# -- GET /v1/guest-connections/{guest_org_id} -----------------------------------------------------


@pytest.fixture
def host_and_guest(host, make_org, make_connection):
    """The host, a guest in the Helios Holdings group, and the group; returns all three ids."""
    group = make_org("Helios Holdings")
    guest = make_org("Alder Foods", "finance@alder.example", parent=group)
    make_connection(host, guest, owner_email="sales@northwind.example", score=87.5)
    return host, guest, group


def test_returns_the_contract_object(api, token_for, host_and_guest):
    """Does the host get exactly the contract's fields, joined from the organizations?"""
    host, guest, group = host_and_guest
    response = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host)

    assert response.status_code == 200
    body = response.json
    assert list(body) == [
        "host_organization_id",
        "guest_organization_id",
        "status",
        "guest_name",
        "guest_email",
        "owner_email",
        "archived",
        "created_at",
        "updated_at",
        "total_score",
        "score_updated_at",
        "archived_at",
        "active_action_type",
        "active_action_updated_at",
        "parent_organization_id",
        "parent_organization_name",
    ]
    assert body["host_organization_id"] == str(host)
    assert body["guest_organization_id"] == str(guest)
    assert body["status"] == "connected"
    assert body["guest_name"] == "Alder Foods"
    assert body["guest_email"] == "finance@alder.example"
    assert body["owner_email"] == "sales@northwind.example"
    assert body["archived"] is False
    assert body["archived_at"] is None
    assert body["total_score"] == 87.5
    assert body["active_action_type"] is None
    assert body["parent_organization_id"] == str(group)
    assert body["parent_organization_name"] == "Helios Holdings"
    for field in ("created_at", "updated_at", "score_updated_at"):
        assert RFC3339_UTC.match(body[field]), body[field]


def test_parent_recorded_by_the_host_wins(api, token_for, make_org, make_connection):
    """Is the parent the host recorded shown instead of the guest's own parent?"""
    host = make_org("Host")
    own_group, recorded_group = make_org("Own Group"), make_org("Recorded Group")
    guest = make_org("Guest", parent=own_group)
    make_connection(host, guest, parent=recorded_group)

    body = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host).json

    assert body["parent_organization_id"] == str(recorded_group)
    assert body["parent_organization_name"] == "Recorded Group"


def test_nulls_when_nothing_is_known(api, token_for, make_org, make_connection):
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest, status="disconnected", archived=True)

    body = api.get(f"/v1/guest-connections/{guest}", token=token_for(host), requester=host).json

    assert body["status"] == "disconnected"
    assert body["archived"] is True and RFC3339_UTC.match(body["archived_at"])
    for field in (
        "guest_email",
        "total_score",
        "score_updated_at",
        "parent_organization_id",
        "parent_organization_name",
        "active_action_type",
        "active_action_updated_at",
    ):
        assert body[field] is None, field


def test_an_unknown_guest_is_404(api, host, host_token):
    response = api.get(f"/v1/guest-connections/{uuid.uuid4()}", token=host_token, requester=host)
    assert response.status_code == 404
    assert error_codes(response) == ["guest_connection_not_found"]


def test_a_successful_call_runs_at_most_two_queries(api, token_for, host_and_guest, count_queries):
    host, guest, _ = host_and_guest
    token = token_for(host)
    api.get(f"/v1/guest-connections/{guest}", token=token, requester=host)  # warm the key cache
    with count_queries() as statements:
        response = api.get(f"/v1/guest-connections/{guest}", token=token, requester=host)
    assert response.status_code == 200
    assert len(statements) <= 2, statements


# -- GET /v1/guest-connections: filters, order, pages ---------------------------------------------


@pytest.fixture
def set_columns(app):
    """Return a function that writes columns of a connection directly (for timestamps)."""

    def write(host: uuid.UUID, guest: uuid.UUID, **values) -> None:
        with app.app_context():
            db.session.execute(
                update(GuestConnection)
                .where(
                    GuestConnection.host_organization_id == host,
                    GuestConnection.guest_organization_id == guest,
                )
                .values(**values)
            )
            db.session.commit()

    return write


@pytest.fixture
def listing(api, host, host_token):
    """Return a function that lists the host's connections with the given query."""

    def get(query: str = "", **kwargs):
        return api.get(f"/v1/guest-connections?{query}", token=host_token, requester=host, **kwargs)

    return get


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["guest_name"] for item in response.json["items"]]


@pytest.fixture
def varied(host, make_org, make_connection, set_columns):
    """Nine guests with ties and empty values in every sortable field."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    group = make_org("Helios Holdings")
    rows = [
        # name, email, owner, score, status, archived, action, parent
        (
            "Alder Foods",
            "finance@alder.example",
            "sales@host.example",
            87.5,
            "connected",
            False,
            True,
            group,
        ),
        ("Birch Retail", None, "sales@host.example", None, "connected", False, False, None),
        (
            "Cobalt Labs",
            "ops@cobalt.example",
            "credit@host.example",
            87.5,
            "disconnected",
            True,
            True,
            None,
        ),
        (
            "Delta Trading",
            "a@delta.example",
            "credit@host.example",
            12.0,
            "connected",
            True,
            False,
            group,
        ),
        ("Ember Textiles", None, "accounts@host.example", None, "disconnected", False, False, None),
        (
            "Fjord Logistics",
            "x@fjord.example",
            "accounts@host.example",
            50.0,
            "connected",
            False,
            True,
            None,
        ),
        (
            "Granite Foods",
            "b@granite.example",
            "sales@host.example",
            0.0,
            "connected",
            True,
            False,
            None,
        ),
        (
            "Harbor Retail",
            "a@delta.example",
            "sales@host.example",
            None,
            "connected",
            False,
            False,
            None,
        ),
        (
            "Iris Manufacturing",
            "c@iris.example",
            "credit@host.example",
            50.0,
            "disconnected",
            False,
            True,
            group,
        ),
    ]
    guests = {}
    for index, (name, email, owner, score, status, archived, action, parent) in enumerate(rows):
        guest = make_org(name, email)
        make_connection(
            host,
            guest,
            owner_email=owner,
            status=status,
            score=score,
            archived=archived,
            parent=parent,
        )
        # Timestamps with ties (index // 2) and empty values, set directly.
        moment = base + timedelta(days=index // 2)
        set_columns(
            host,
            guest,
            created_at=moment,
            updated_at=base + timedelta(days=(8 - index) // 3),
            score_updated_at=moment if score is not None else None,
            archived_at=moment if archived else None,
            active_action_type="analytics_request" if action else None,
            active_action_updated_at=base + timedelta(hours=index % 3) if action else None,
        )
        guests[name] = guest
    return guests, group


def expected_order(items: list[dict], field: str, direction: str) -> list[str]:
    """Sort as the contract says: by field then guest id, either way, empty values last."""
    reverse = direction == "desc"
    present = [item for item in items if item[field] is not None]
    empty = [item for item in items if item[field] is None]
    present.sort(key=lambda item: (item[field], item["guest_organization_id"]), reverse=reverse)
    empty.sort(key=lambda item: item["guest_organization_id"], reverse=reverse)
    return [item["guest_name"] for item in present + empty]


def test_default_page(listing, varied):
    """Without parameters: both statuses, archived or not, by guest name, ten at most?"""
    response = listing()
    assert response.status_code == 200
    assert list(response.json) == ["items", "total_items", "next_cursor"]
    assert response.json["total_items"] == 9
    assert names(response) == sorted(varied[0])
    assert list(response.json["items"][0])[:3] == [
        "host_organization_id",
        "guest_organization_id",
        "status",
    ]


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("field", ORDER_FIELDS)
def test_every_order_empty_values_last_ties_by_guest_id(listing, varied, field, direction):
    """Does every field sort both ways, empty values last and ties broken by the guest id?"""
    response = listing(f"order_by={field}&order_dir={direction}&limit=100")
    assert names(response) == expected_order(response.json["items"], field, direction)
    if field in ("total_score", "archived_at", "guest_email"):
        assert response.json["items"][-1][field] is None


@pytest.mark.parametrize("field", ["owner_email", "total_score", "created_at"])
def test_pages_neither_overlap_nor_skip(listing, varied, field):
    """Walking pages of two, with ties and nulls, gives every guest exactly once, in order?"""
    whole = names(listing(f"order_by={field}&order_dir=desc&limit=100"))
    walked = []
    for offset in range(0, 10, 2):
        page = listing(f"order_by={field}&order_dir=desc&limit=2&offset={offset}")
        assert page.json["total_items"] == 9
        walked += names(page)
    assert walked == whole


def walk(listing, query: str, size: int) -> tuple[list[str], int]:
    """Follow next_cursor from the first page to the last; return the names and page count."""
    walked, pages, cursor = [], 0, None
    while True:
        page = listing(query + f"&limit={size}" + (f"&cursor={cursor}" if cursor else ""))
        walked += names(page)
        pages += 1
        cursor = page.json["next_cursor"]
        if cursor is None:
            return walked, pages


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("field", ORDER_FIELDS)
def test_a_cursor_walk_gives_every_guest_once_in_order(listing, varied, field, direction):
    """With ties and empty values in every order, does the keyset walk match the whole list?"""
    query = f"order_by={field}&order_dir={direction}"
    whole = names(listing(query + "&limit=100"))
    walked, pages = walk(listing, query, 2)
    assert walked == whole
    assert pages == 5  # 2+2+2+2+1: the last page says so, no empty page after it


def test_a_cursor_walk_survives_inserts_and_updates(
    listing, varied, host, make_org, make_connection, set_columns
):
    """Guests added and changed during a walk: is every guest of the start still seen once?"""
    before = set(varied[0])
    seen, cursor, step = [], None, 0
    while True:
        page = listing("limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += names(page)
        # Between pages: a guest that sorts first arrives, another is renamed in place
        # (its position stays), and one already seen gets newer timestamps.
        make_connection(host, make_org(f"Aaa New {step}"))
        set_columns(host, varied[0]["Iris Manufacturing"], updated_at=datetime.now(UTC))
        step += 1
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert sorted(name for name in seen if name in before) == sorted(before)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("not-a-cursor", "The cursor is invalid"),
        ("tampered", "The cursor is invalid"),
        ("other-order", "another order"),
    ],
)
def test_a_forged_or_foreign_cursor_is_422(listing, varied, cursor, message):
    """Is a cursor that was altered, invented or made for another order refused, naming it?"""
    genuine = listing("limit=2").json["next_cursor"]
    values = {
        "not-a-cursor": "not-a-cursor",
        "tampered": genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB"),
        "other-order": genuine,
    }
    query = "order_by=created_at&" if cursor == "other-order" else ""
    response = listing(f"{query}cursor={values[cursor]}")
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["query", "cursor"]
    assert message in response.json["detail"][0]["msg"]


def test_a_cursor_with_an_offset_is_422(listing, varied):
    genuine = listing("limit=2").json["next_cursor"]
    response = listing(f"cursor={genuine}&offset=2")
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["query", "offset"]


def test_updated_since_keeps_the_guests_changed_at_or_after_it(listing, varied):
    """updated_at is 2026-01-01 + (8 - index) // 3 days: does the filter include its bound?"""
    response = listing("updated_since=2026-01-02T00:00:00Z&order_by=updated_at&limit=100")
    assert response.json["total_items"] == 6
    assert all(item["updated_at"] >= "2026-01-02" for item in response.json["items"])
    assert listing("updated_since=2026-01-03T00:00:00.000001%2B00:00").json["total_items"] == 0


@pytest.mark.parametrize("value", ["yesterday", "2026-01-02", "2026-01-02T00:00:00"])
def test_updated_since_must_be_rfc_3339_with_a_zone(listing, varied, value):
    response = listing(f"updated_since={value}")
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["query", "updated_since"]


def test_offset_past_the_end_is_an_empty_page(listing, varied):
    response = listing("offset=50")
    assert response.json == {"items": [], "total_items": 9, "next_cursor": None}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "statuses=connected",
            {
                "Alder Foods",
                "Birch Retail",
                "Delta Trading",
                "Fjord Logistics",
                "Granite Foods",
                "Harbor Retail",
            },
        ),
        ("statuses=disconnected", {"Cobalt Labs", "Ember Textiles", "Iris Manufacturing"}),
        ("statuses=connected&statuses=disconnected", None),
        ("archived=true", {"Cobalt Labs", "Delta Trading", "Granite Foods"}),
        (
            "archived=false",
            {
                "Alder Foods",
                "Birch Retail",
                "Ember Textiles",
                "Fjord Logistics",
                "Harbor Retail",
                "Iris Manufacturing",
            },
        ),
        ("archived=true&statuses=connected", {"Delta Trading", "Granite Foods"}),
        ("search_text=FOODS", {"Alder Foods", "Granite Foods"}),
        (
            "search_field=guest_name&search_text=re",
            {"Birch Retail", "Harbor Retail"},
        ),
        ("search_field=guest_email&search_text=@DELTA.", {"Delta Trading", "Harbor Retail"}),
        (
            "search_field=owner_email&search_text=credit",
            {"Cobalt Labs", "Delta Trading", "Iris Manufacturing"},
        ),
        ("search_field=guest_email&search_text=nobody", set()),
        ("search_field=owner_email", None),  # a field without text filters nothing
        ("min_score=50", {"Alder Foods", "Cobalt Labs", "Fjord Logistics", "Iris Manufacturing"}),
        ("max_score=12", {"Delta Trading", "Granite Foods"}),
        (
            "min_score=12&max_score=50",
            {"Delta Trading", "Fjord Logistics", "Iris Manufacturing"},
        ),
        ("min_score=50&max_score=50", {"Fjord Logistics", "Iris Manufacturing"}),
        (
            "has_open_action=true",
            {"Alder Foods", "Cobalt Labs", "Fjord Logistics", "Iris Manufacturing"},
        ),
        (
            "has_open_action=false",
            {"Birch Retail", "Delta Trading", "Ember Textiles", "Granite Foods", "Harbor Retail"},
        ),
        (
            "score_older_than_days=30",  # the fixture's scores date from January 2026
            {
                "Alder Foods",
                "Cobalt Labs",
                "Delta Trading",
                "Fjord Logistics",
                "Granite Foods",
                "Iris Manufacturing",
            },
        ),
        ("score_older_than_days=36500", set()),
        ("has_open_action=true&max_score=60&statuses=connected", {"Fjord Logistics"}),
    ],
)
def test_filters(listing, varied, query, expected):
    """Does each filter keep exactly the matching guests, and total_items count them?"""
    expected = set(varied[0]) if expected is None else expected
    response = listing(query + "&limit=100")
    assert set(names(response)) == expected
    assert response.json["total_items"] == len(expected)


def test_parent_filter_uses_the_parent_shown(listing, varied, make_org, make_connection, host):
    """Does parent_organization_id match the host's recorded parent and the guest's own one?"""
    guests, group = varied
    own_parent_guest = make_org("Juniper Labs", parent=group)
    make_connection(host, own_parent_guest)
    response = listing(f"parent_organization_id={group}&limit=100")
    assert set(names(response)) == {
        "Alder Foods",
        "Delta Trading",
        "Iris Manufacturing",
        "Juniper Labs",
    }
    assert {item["parent_organization_name"] for item in response.json["items"]} == {
        "Helios Holdings"
    }
    assert listing(f"parent_organization_id={uuid.uuid4()}").json["total_items"] == 0


@pytest.fixture
def tricky(host, make_org, make_connection):
    for name in [
        "100% Organic",
        "1000 Organic",
        "snake_case Ltd",
        "snakeXcase Ltd",
        "Back\\slash & Co",
        "Backslash & Co",
        "Ärztebedarf GmbH",
    ]:
        make_connection(host, make_org(name))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0%", ["100% Organic"]),
        ("%", ["100% Organic"]),
        ("e_c", ["snake_case Ltd"]),
        ("_", ["snake_case Ltd"]),
        ("k\\s", ["Back\\slash & Co"]),
        ("\\", ["Back\\slash & Co"]),
        ("ärzte", ["Ärztebedarf GmbH"]),
        ("ÄRZTE", ["Ärztebedarf GmbH"]),
        ("& co", ["Back\\slash & Co", "Backslash & Co"]),
    ],
)
def test_search_matches_wildcards_literally(listing, tricky, text, expected):
    """Do %, _ and \\ in the search text match themselves, case-insensitively, non-ASCII too?"""
    response = api_query(listing, {"search_text": text, "limit": 100})
    assert names(response) == expected


def api_query(listing, params: dict):
    return listing(urlencode(params, doseq=True))


@pytest.mark.parametrize(
    ("params", "locations"),
    [
        ({"statuses": "pending"}, [["query", "statuses"]]),
        ({"statuses": ["connected", "gone"]}, [["query", "statuses"]]),
        ({"statuses": ""}, [["query", "statuses"]]),
        ({"archived": "maybe"}, [["query", "archived"]]),
        ({"archived": ""}, [["query", "archived"]]),
        ({"search_field": "guest_phone"}, [["query", "search_field"]]),
        ({"search_text": ""}, [["query", "search_text"]]),
        ({"search_text": "x" * 256}, [["query", "search_text"]]),
        ({"parent_organization_id": "not-a-uuid"}, [["query", "parent_organization_id"]]),
        ({"order_by": "name"}, [["query", "order_by"]]),
        ({"order_dir": "up"}, [["query", "order_dir"]]),
        ({"limit": "0"}, [["query", "limit"]]),
        ({"limit": "101"}, [["query", "limit"]]),
        ({"limit": "-1"}, [["query", "limit"]]),
        ({"limit": "ten"}, [["query", "limit"]]),
        ({"offset": "-1"}, [["query", "offset"]]),
        ({"offset": "1" + "0" * 30}, [["query", "offset"]]),
        ({"limit": "0", "order_dir": "up"}, [["query", "order_dir"], ["query", "limit"]]),
        ({"min_score": "-1"}, [["query", "min_score"]]),
        ({"min_score": "nan"}, [["query", "min_score"]]),
        ({"max_score": "high"}, [["query", "max_score"]]),
        ({"min_score": "60", "max_score": "40"}, [["query", "max_score"]]),
        ({"has_open_action": "maybe"}, [["query", "has_open_action"]]),
        ({"score_older_than_days": "-1"}, [["query", "score_older_than_days"]]),
        ({"score_older_than_days": "1.5"}, [["query", "score_older_than_days"]]),
        ({"score_older_than_days": "99999999999"}, [["query", "score_older_than_days"]]),
    ],
)
def test_invalid_values_are_422_naming_the_parameter(listing, host, params, locations):
    """Is every invalid value refused with 422, each parameter named (all at once)?"""
    response = api_query(listing, params)
    assert response.status_code == 422
    assert set(error_codes(response)) == {"validation_error"}
    assert [item["loc"] for item in response.json["detail"]] == locations
    assert all(item["msg"].endswith(".") for item in response.json["detail"])


def test_boundary_values_are_accepted(listing, varied):
    assert len(names(listing("limit=1"))) == 1
    assert len(names(listing("limit=100"))) == 9
    assert names(listing("search_text=" + "x" * 255)) == []
    assert names(listing("archived=1")) == names(listing("archived=true"))


def test_at_most_three_queries_whatever_the_page_size(
    listing, host, make_org, make_connection, count_queries
):
    """Is a full page of 100 connections (with parents) read in at most 3 SQL queries?"""
    group = make_org("Helios Holdings")
    for number in range(105):
        make_connection(host, make_org(f"Guest {number:03d}", parent=group if number % 2 else None))
    listing()  # warm the signing-key cache
    for query in ["limit=100", "limit=100&order_by=total_score&order_dir=desc&search_text=guest"]:
        with count_queries() as statements:
            response = listing(query)
        assert len(response.json["items"]) == 100
        assert response.json["total_items"] == 105
        assert len(statements) <= 3, statements


def test_only_the_targets_connections(listing, varied, make_org, make_connection):
    """Are another host's connections (even with the same guest) never listed?"""
    other_host = make_org("Other Host")
    make_connection(other_host, make_org("Other Guest"))
    make_connection(other_host, varied[0]["Alder Foods"], owner_email="elsewhere@other.example")
    response = listing("limit=100&search_field=owner_email&search_text=elsewhere")
    assert response.json == {"items": [], "total_items": 0, "next_cursor": None}
    assert listing("limit=100").json["total_items"] == 9


# -- PATCH /v1/guest-connections/{guest_org_id}: archive ------------------------------------------


@pytest.fixture
def patch(api, host_token, pair):
    """Return a function that sends a PATCH for the pair's connection as the host."""
    host, guest = pair

    def send(guest_id=guest, **kwargs):
        return api.call(
            "PATCH", f"/v1/guest-connections/{guest_id}", token=host_token, requester=host, **kwargs
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


def test_archive_then_unarchive(patch, api, host_token, pair):
    """Does archiving set archived_at and move updated_at, and unarchiving clear it?"""
    host, guest = pair
    before = api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host).json

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

    again = api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host).json
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


def test_archiving_an_unknown_guest_is_404(patch):
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


# -- POST .../disconnection-notification ----------------------------------------------------------


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
    app, api, host, host_token, guest, make_connection
):
    """Does notifying queue one message to the guest and answer 202 with it?"""
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


def test_a_connected_guest_is_not_notified(app, api, host, host_token, guest, make_connection):
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
    app, api, host, guest, make_connection, callers, caller, expected_status, expected_code
):
    make_connection(host, guest, status="disconnected")
    token, requester, target = callers(caller)

    response = notify(api, token, requester, guest, target=target)

    assert response.status_code == expected_status
    assert error_codes(response) == [expected_code]
    assert outbox(app) == []


def test_notifying_an_unknown_guest_is_404(api, host, host_token):
    response = notify(api, host_token, host, uuid.uuid4())
    assert response.status_code == 404


# -- POST /v1/guest-connections/bulk --------------------------------------------------------------


@pytest.fixture
def bulk(api, host, host_token):
    """Return a function that sends one bulk action as the host."""

    def send(action: str, guest_ids: list, **kwargs):
        return api.call(
            "POST",
            "/v1/guest-connections/bulk",
            token=kwargs.pop("token", host_token),
            requester=host,
            json={"action": action, "guest_organization_ids": [str(g) for g in guest_ids]},
            **kwargs,
        )

    return send


def test_bulk_archive_answers_per_id_and_audits_each(app, bulk, host, varied, make_org):
    """Does one call archive many guests in one go, say per id what was skipped and why, and
    leave one audit event per guest changed?"""
    guests, _ = varied
    stranger = make_org("Not A Guest")
    ids = [guests["Alder Foods"], guests["Cobalt Labs"], stranger, guests["Alder Foods"]]

    response = bulk("archive", ids)

    assert response.status_code == 200, response.json
    assert response.json["done"] == 1 and response.json["skipped"] == 2
    assert [(i["guest_name"], i["outcome"], i["code"]) for i in response.json["items"]] == [
        ("Alder Foods", "done", None),
        ("Cobalt Labs", "skipped", "already_archived"),
        (None, "skipped", "guest_connection_not_found"),
    ]
    with app.app_context():
        events = [e for e in audit.list_events(host) if e.action == "guest_connection.archived"]
    assert [e.subject_id for e in events] == [str(guests["Alder Foods"])]
    unarchived = bulk("unarchive", [guests["Alder Foods"], guests["Birch Retail"]]).json
    assert [i["code"] for i in unarchived["items"]] == [None, "not_archived"]


def test_bulk_analytics_requests_skip_the_disconnected_and_the_already_asked(bulk, varied):
    guests, _ = varied
    ids = [guests["Birch Retail"], guests["Alder Foods"], guests["Ember Textiles"]]

    response = bulk("request_analytics", ids)

    assert [(i["outcome"], i["code"]) for i in response.json["items"]] == [
        ("done", None),
        ("skipped", "analytics_request_already_active"),  # the fixture's open action
        ("skipped", "guest_connection_disconnected"),
    ]
    again = bulk("request_analytics", [guests["Birch Retail"]]).json
    assert again["items"][0]["code"] == "analytics_request_already_active"


def test_bulk_takes_up_to_1000_ids(bulk, varied):
    guests, _ = varied
    many = [uuid.uuid4() for _ in range(999)] + [guests["Alder Foods"]]
    response = bulk("archive", many)
    assert response.status_code == 200
    assert response.json["done"] == 1 and response.json["skipped"] == 999

    too_many = bulk("archive", [uuid.uuid4() for _ in range(1001)])
    assert too_many.status_code == 422
    assert too_many.json["detail"][0]["loc"] == ["body", "guest_organization_ids"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"action": "delete", "guest_organization_ids": [str(uuid.uuid4())]}, ["body", "action"]),
        ({"action": "archive", "guest_organization_ids": []}, ["body", "guest_organization_ids"]),
        (
            {"action": "archive", "guest_organization_ids": ["nope"]},
            ["body", "guest_organization_ids", 0],
        ),
        ({"action": "archive"}, ["body", "guest_organization_ids"]),
    ],
)
def test_bulk_refuses_bad_bodies(api, host, host_token, body, location):
    response = api.call(
        "POST", "/v1/guest-connections/bulk", token=host_token, requester=host, json=body
    )
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == location
