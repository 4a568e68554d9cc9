"""A list rendered straight from rows is byte for byte the JSON of its pydantic models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import schemas
from app.models import ActionType, ConnectionStatus
from app.services import guest_connections, rendering

FIELDS = list(schemas.GuestConnection.model_fields)
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]


def model_json(rows: list[tuple], total: int, next_cursor: str | None) -> bytes:
    """The reference: each row validated as the model, the list serialized by pydantic."""
    items = [
        schemas.GuestConnection.model_validate(dict(zip(FIELDS, row, strict=True))) for row in rows
    ]
    page = schemas.GuestConnectionList(items=items, total_items=total, next_cursor=next_cursor)
    return page.model_dump_json().encode()


# Text as the database may hold it: any character but controls (refused on the way in) and
# lone surrogates (not encodable), including non-ASCII, quotes and backslashes.
text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=100)
moments = st.builds(
    lambda moment, zone: moment.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(min_value=datetime(1001, 1, 1), max_value=datetime(9998, 12, 31)),
    st.sampled_from(ZONES),
)
rows = st.tuples(
    st.uuids(),
    st.uuids(),
    st.sampled_from(list(ConnectionStatus)),
    text,
    st.none() | text,
    st.none() | text,
    st.booleans(),
    moments,
    moments,
    st.none() | st.floats(min_value=0, max_value=100, allow_nan=False),
    st.none() | moments,
    st.none() | moments,
    st.none() | st.sampled_from(list(ActionType)),
    st.none() | moments,
    st.none() | st.uuids(),
    st.none() | text,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(rows, max_size=5),
    st.integers(min_value=0, max_value=10**9),
    st.none() | st.text(alphabet="abcXYZ012-_.", min_size=1, max_size=40),
)
def test_rows_render_as_the_models_serialize(found, total, next_cursor):
    # Each row as read carries the count after the item's fields; rendering ignores it.
    read = [(*row, total) for row in found]
    rendered = rendering.guest_connection_list_json(FIELDS, read, total, next_cursor)
    assert rendered == model_json(found, total, next_cursor)


def test_rows_of_other_fields_are_refused():
    with pytest.raises(ValueError):
        rendering.guest_connection_list_json(list(reversed(FIELDS)), [], 0, None)


def test_the_api_list_is_the_models_json_for_every_order_and_filter(app, make_org, make_connection):
    """From the database, on this test's engine: the API's rendering equals the models' JSON."""
    host = make_org("Host Ltd", "host@host.example")
    parent = make_org("Parent «Holding» Oy")
    names = ["Maple Foods", "Ünïcödé Maple GmbH", 'Quote "Maple" \\ Ltd', "Oak 🌳 Trading"]
    for index, name in enumerate(names):
        guest = make_org(name, None if index == 1 else f"g{index}@guest.example")
        make_connection(
            host,
            guest,
            owner_email=f"owner{index}@host.example",
            status="disconnected" if index == 2 else "connected",
            score=None if index == 3 else [33.333333333333336, 0.1, 100.0][index],
            parent=parent if index % 2 else None,
            archived=index == 0,
        )
    queries = [
        schemas.GuestConnectionQuery(),
        schemas.GuestConnectionQuery(search_text="maple", order_by="total_score", order_dir="desc"),
        schemas.GuestConnectionQuery(search_text="MAPLE", limit=1),
        schemas.GuestConnectionQuery(order_by="archived_at", order_dir="desc", limit=2),
        schemas.GuestConnectionQuery(archived=False, parent_organization_id=parent),
        schemas.GuestConnectionQuery(search_text="nothing matches this"),
    ]
    with app.app_context():
        for query in queries:
            page = guest_connections.list_guest_connections(host, query)
            rendered = guest_connections.list_guest_connections_json(host, query)
            assert rendered == page.model_dump_json().encode()
        # and the next page, by the cursor of the first
        query = schemas.GuestConnectionQuery(order_by="total_score", limit=2)
        cursor = guest_connections.list_guest_connections(host, query).next_cursor
        assert cursor is not None
        query = schemas.GuestConnectionQuery(order_by="total_score", limit=2, cursor=cursor)
        page = guest_connections.list_guest_connections(host, query)
        assert guest_connections.list_guest_connections_json(host, query) == (
            page.model_dump_json().encode()
        )
        assert [item.guest_organization_id for item in page.items]
