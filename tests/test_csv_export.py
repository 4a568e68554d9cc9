"""Guest connections as CSV: every matching row in the list's order, safe for spreadsheets."""

from __future__ import annotations

import csv
import io

import pytest

from app import connections, csv_export, schemas


@pytest.fixture
def host_with_guests(make_org, make_connection):
    host = make_org("Northwind Supplies")
    group = make_org("Helios Holdings")
    names = [
        "Alder Foods",
        'Birch "The Best" Retail, Inc.',
        "Cobalt\nLabs",
        '=HYPERLINK("http://evil.example")',
        "+Plus Trading",
        "-Minus Textiles",
        "@Sum Logistics",
        "Ärztebedarf GmbH",
    ]
    for index, name in enumerate(names):
        make_connection(
            host,
            make_org(name, f"g{index}@guest.example"),
            score=10.0 * index if index % 2 else None,
            parent=group if index == 0 else None,
            archived=index == 2,
        )
    make_connection(make_org("Other Host"), make_org("Not Ours"))
    return host


def export(app, host, batch_size=1000, rows_per_chunk=500, **query) -> tuple[list[str], str]:
    with app.app_context():
        items = connections.iter_guest_connections(
            host, schemas.GuestConnectionQuery(**query), batch_size=batch_size
        )
        chunks = list(csv_export.guest_connections_csv(items, rows_per_chunk=rows_per_chunk))
    return chunks, "".join(chunks)


def parsed(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_every_matching_row_in_the_list_order(app, host_with_guests):
    """Does the CSV hold every connection of the filters, in the list's order, not one page?"""
    _, text = export(app, host_with_guests, limit=1, offset=3, order_by="guest_name")
    rows = parsed(text)
    with app.app_context():
        listed = connections.list_guest_connections(
            host_with_guests, schemas.GuestConnectionQuery(limit=100)
        )
    assert [row["guest_organization_id"] for row in rows] == [
        str(item.guest_organization_id) for item in listed.items
    ]
    assert len(rows) == 8


def test_filters_and_order_apply(app, host_with_guests):
    _, text = export(
        app, host_with_guests, archived=False, order_by="total_score", order_dir="desc"
    )
    scores = [row["total_score"] for row in parsed(text)]
    assert scores == ["70.0", "50.0", "30.0", "10.0", "", "", ""]


def test_header_and_values_as_in_the_api(app, host_with_guests):
    """Are the columns the API's fields, nulls empty, booleans true/false, times RFC 3339?"""
    _, text = export(app, host_with_guests, search_text="alder")
    header = text[1:].split("\r\n", 1)[0]
    assert header.split(",") == list(schemas.GuestConnection.model_fields)
    [row] = parsed(text)
    assert row["guest_name"] == "Alder Foods"
    assert row["archived"] == "false"
    assert row["archived_at"] == ""
    assert row["parent_organization_name"] == "Helios Holdings"
    assert row["created_at"].endswith("Z")


def test_quoting_round_trips(app, host_with_guests):
    """Do commas, quotes, line breaks and non-ASCII letters survive a CSV reader?"""
    _, text = export(app, host_with_guests)
    names = {row["guest_name"] for row in parsed(text)}
    assert 'Birch "The Best" Retail, Inc.' in names
    assert "Cobalt\nLabs" in names
    assert "Ärztebedarf GmbH" in names


def test_cells_that_a_spreadsheet_would_run_are_defused(app, host_with_guests):
    """Is a cell starting with =, +, - or @ written so that spreadsheets show it as text?"""
    _, text = export(app, host_with_guests)
    names = {row["guest_name"] for row in parsed(text)}
    assert {
        '\'=HYPERLINK("http://evil.example")',
        "'+Plus Trading",
        "'-Minus Textiles",
        "'@Sum Logistics",
    } <= names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_streams_in_batches_and_chunks(app, host_with_guests):
    """Read two rows at a time and written three per chunk, is the file the same?"""
    chunks, text = export(app, host_with_guests, batch_size=2, rows_per_chunk=3)
    assert len(chunks) == 3  # 8 rows: up to row 3, up to row 6, then the last two
    assert text == export(app, host_with_guests)[1]


def test_no_connections_is_a_header_only(app, make_org):
    _, text = export(app, make_org("Lonely Host"))
    assert parsed(text) == []
    assert text.count("\r\n") == 1
