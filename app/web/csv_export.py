"""Guest connections as CSV, written row by row so that any number of them can be streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from app import schemas

COLUMNS = list(schemas.GuestConnection.model_fields)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Lets spreadsheet programs (Excel above all) read the file as UTF-8; csv readers skip it
# with encoding="utf-8-sig".
BOM = "\ufeff"


def guest_connections_csv(
    connections: Iterable[schemas.GuestConnection], *, rows_per_chunk: int = 500
) -> Iterator[str]:
    """Yield the CSV text (header first, then one row per connection) in chunks."""
    buffer = io.StringIO()
    buffer.write(BOM)
    # Every field quoted: a spreadsheet that splits on ";" or "," still sees one text cell.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    for number, connection in enumerate(connections, start=1):
        writer.writerow(_row(connection))
        if number % rows_per_chunk == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _row(connection: schemas.GuestConnection) -> list[str]:
    values = connection.model_dump(mode="json")
    return [_cell(values[column]) for column in COLUMNS]


def _cell(value: object) -> str:
    """Return the value as a cell: empty for null, true/false, and never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text  # shown as text by spreadsheets, as OWASP advises
    return text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
