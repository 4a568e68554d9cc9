"""Guest connections as CSV: every matching row in the list's order, safe for spreadsheets."""

from __future__ import annotations

import csv
import io
import re

import pytest

from app import schemas
from app.services import guest_connections
from app.web import csv_export
from tests.web.conftest import text

# -- the file -------------------------------------------------------------------------------------


@pytest.fixture
def exporting_host(make_org, make_connection):
    """A host with guests whose names a CSV file or a spreadsheet could get wrong."""
    host = make_org("Northwind Supplies")
    group = make_org("Helios Holdings")
    names = [
        "Alder Foods",
        'Birch "The Best" Retail, Inc.',
        'Acme;=HYPERLINK("http://evil.example")',
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
        items = guest_connections.iter_guest_connections(
            host, schemas.GuestConnectionQuery(**query), batch_size=batch_size
        )
        chunks = list(csv_export.guest_connections_csv(items, rows_per_chunk=rows_per_chunk))
    return chunks, "".join(chunks)


def parsed(content: str) -> list[dict[str, str]]:
    """Return the rows of a CSV file that starts with a byte-order mark."""
    assert content.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(content[1:])))


def test_every_matching_row_in_the_list_order(app, exporting_host):
    """Does the CSV hold every connection of the filters, in the list's order, not one page?"""
    _, text = export(app, exporting_host, limit=1, offset=3, order_by="guest_name")
    rows = parsed(text)
    with app.app_context():
        listed = guest_connections.list_guest_connections(
            exporting_host, schemas.GuestConnectionQuery(limit=100)
        )
    assert [row["guest_organization_id"] for row in rows] == [
        str(item.guest_organization_id) for item in listed.items
    ]
    assert len(rows) == 8


def test_filters_and_order_apply(app, exporting_host):
    _, text = export(app, exporting_host, archived=False, order_by="total_score", order_dir="desc")
    scores = [row["total_score"] for row in parsed(text)]
    assert scores == ["70.0", "50.0", "30.0", "10.0", "", "", ""]


def test_header_and_values_as_in_the_api(app, exporting_host):
    """Are the columns the API's fields, nulls empty, booleans true/false, times RFC 3339?"""
    _, text = export(app, exporting_host, search_text="alder")
    header = text[1:].split("\r\n", 1)[0]
    assert header.split(",") == [f'"{name}"' for name in schemas.GuestConnection.model_fields]
    [row] = parsed(text)
    assert row["guest_name"] == "Alder Foods"
    assert row["archived"] == "false"
    assert row["archived_at"] == ""
    assert row["parent_organization_name"] == "Helios Holdings"
    assert row["created_at"].endswith("Z")


def test_quoting_round_trips(app, exporting_host):
    """Do commas, quotes, semicolons and non-ASCII letters survive a CSV reader?"""
    _, text = export(app, exporting_host)
    names = {row["guest_name"] for row in parsed(text)}
    assert 'Birch "The Best" Retail, Inc.' in names
    assert 'Acme;=HYPERLINK("http://evil.example")' in names
    assert "Ärztebedarf GmbH" in names


def test_cells_that_a_spreadsheet_would_run_are_defused(app, exporting_host):
    """Is a cell starting with =, +, - or @ written so that spreadsheets show it as text?"""
    _, text = export(app, exporting_host)
    names = {row["guest_name"] for row in parsed(text)}
    assert {
        '\'=HYPERLINK("http://evil.example")',
        "'+Plus Trading",
        "'-Minus Textiles",
        "'@Sum Logistics",
    } <= names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_every_field_is_quoted(app, exporting_host):
    """Does a spreadsheet that splits on ";" still see `Acme;=HYPERLINK(...)` as one cell?"""
    _, text = export(app, exporting_host)
    lines = text[1:].split("\r\n")
    assert all(line.startswith('"') and line.endswith('"') for line in lines if line)
    # The ";" sits inside the quotes: a reader splitting on ";" honours them, one text cell.
    assert ',"Acme;=HYPERLINK(""http://evil.example"")",' in text


def test_streams_in_batches_and_chunks(app, exporting_host):
    """Read two rows at a time and written three per chunk, is the file the same?"""
    chunks, text = export(app, exporting_host, batch_size=2, rows_per_chunk=3)
    assert len(chunks) == 3  # 8 rows: up to row 3, up to row 6, then the last two
    assert text == export(app, exporting_host)[1]


def test_no_connections_is_a_header_only(app, make_org):
    _, text = export(app, make_org("Lonely Host"))
    assert parsed(text) == []
    assert text.count("\r\n") == 1


# -- the download from the dashboard --------------------------------------------------------------


@pytest.fixture
def northwind(northwind, make_org, make_connection):
    """Northwind with a fourth guest, Dune Labs, whose name has no "o" in it."""
    _, host, guests = northwind
    guests["Dune Labs"] = make_org("Dune Labs", "finance@dune.example")
    make_connection(host, guests["Dune Labs"], owner_email="sales@northwind.example")
    return northwind


def csv_rows(response) -> list[dict[str, str]]:
    return parsed(text(response))


def test_export_holds_every_guest_of_the_filters_in_their_order(northwind):
    """Does the CSV of a filtered, sorted dashboard hold all its guests, not one page?"""
    client, host, _ = northwind
    response = client.get(
        f"/orgs/{host}/guest-connections.csv?search_text=o&order_dir=desc&limit=1&offset=1"
    )
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="guest-connections-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["Content-Disposition"],
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert [row["guest_name"] for row in csv_rows(response)] == [
        "Cobalt Retail",
        "Birch Logistics",
        "Alder Foods",
    ]


def test_export_defuses_formulas(northwind, make_org, make_connection):
    client, host, _ = northwind
    make_connection(host, make_org('=HYPERLINK("http://evil.example")'))
    rows = csv_rows(client.get(f"/orgs/{host}/guest-connections.csv?search_text=evil"))
    assert rows[0]["guest_name"] == '\'=HYPERLINK("http://evil.example")'


def test_dashboard_links_to_the_export_of_its_filters(northwind):
    """Does the export link keep the filters and order but drop the page?"""
    client, host, _ = northwind
    page = text(client.get(f"/orgs/{host}/guest-connections?search_text=o&limit=1&offset=1"))
    assert f'href="/orgs/{host}/guest-connections.csv?search_text=o"' in page
    assert "Export all 3 as CSV" in page


def test_export_with_a_bad_filter_is_a_422_page(northwind):
    client, host, _ = northwind
    response = client.get(f"/orgs/{host}/guest-connections.csv?limit=0&order_by=shoe_size")
    assert response.status_code == 422
    assert response.mimetype == "text/html"


def test_export_of_another_organization_is_refused(signed_in, host_with_guests):
    host_a, _ = host_with_guests("Host A", ("Alder Foods",))
    host_b, _ = host_with_guests("Host B", ("Birch Logistics",))
    client = signed_in(host_a)
    response = client.get(f"/orgs/{host_b}/guest-connections.csv")
    assert response.status_code == 403
    assert "Birch" not in text(response)


def test_export_signed_out_goes_to_sign_in(client, host_with_guests):
    host, _ = host_with_guests("Host A", ("Alder Foods",))
    response = client.get(f"/orgs/{host}/guest-connections.csv?search_text=a")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
