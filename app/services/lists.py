"""What every list shares: substring search, and sorting with one tie-break, then paging."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, literal_column, select, table

from app.extensions import db
from app.schemas import OrderDirection, Page

ItemT = TypeVar("ItemT", bound=BaseModel)


# SQLite's trigram tables (migration 0008), by the table and the column they search.
SQLITE_SEARCH_TABLES = {
    ("organizations", "name"): "organization_search",
    ("organizations", "email"): "organization_search",
    ("guest_connections", "owner_email"): "guest_connection_search",
}
TRIGRAM = 3  # the shortest text a trigram index finds


def contains_text(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """Return the condition: column holds text, case-insensitively, with %, _ and \\ literal.

    lower(column) LIKE '%text%' is the shape the trigram indexes of PostgreSQL serve; every
    list's search uses it, so all of them match the same way. SQLite has no such index: there
    a text of 3 characters or more is looked up in the column's trigram table, which matches
    the same way (Unicode case folding, every character literal).
    """
    if len(text) >= TRIGRAM and db.engine.dialect.name == "sqlite":
        indexed = _sqlite_trigram_search(column, text)
        if indexed is not None:
            return indexed
    return func.lower(column).like(_substring_pattern(text), escape="\\")


def _sqlite_trigram_search(column: ColumnElement[str], text: str) -> ColumnElement[bool] | None:
    """Return `row id IN (ids whose column holds text)` by the trigram table, if it has one."""
    clause = column.__clause_element__() if hasattr(column, "__clause_element__") else column
    source = clause.table  # the table, or an alias of it (the guest, the host)
    name = getattr(source, "element", source).name
    search = SQLITE_SEARCH_TABLES.get((name, clause.key))
    if search is None:
        return None
    phrase = '"' + text.replace('"', '""') + '"'  # a phrase: every character literal
    matches = (
        select(literal_column("id"))
        .select_from(table(search))
        .where(literal_column(search).match(f"{clause.key} : {phrase}"))
    )
    return source.c.id.in_(matches)


def _substring_pattern(text: str) -> str:
    """Return a LIKE pattern (escape character backslash) matching text literally, lower-cased."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def sort_order(
    column: ColumnElement,
    direction: OrderDirection,
    tie_breaker: ColumnElement,
    *,
    never_empty: bool = False,
) -> list[ColumnElement]:
    """Return the ORDER BY: the column, empty values last, then the tie-breaker, one direction.

    The tie-breaker (a unique id) makes the order total, so that pages never overlap or skip;
    it follows the direction so that each order is exactly the order of one index. A column
    that is never empty gets no NULLS LAST, so PostgreSQL can read an index backwards for it.
    """
    descending = direction == OrderDirection.DESC
    ordered = column.desc() if descending else column.asc()
    if not never_empty:
        ordered = ordered.nulls_last()  # the same on every database
    return [ordered, tie_breaker.desc() if descending else tie_breaker.asc()]


def page(statement: Select, order: list[ColumnElement], limit: int, offset: int) -> Select:
    """Return the statement sorted, then cut to one page."""
    return statement.order_by(*order).limit(limit).offset(offset)


def one_page(
    rows: Select, count: Select, order: list[ColumnElement], query: Page, item: type[ItemT]
) -> tuple[list[ItemT], int]:
    """Return one page of rows (as item models) and how many match in all.

    rows selects the item's fields and count the number of matches, both already filtered.
    """
    total = db.session.scalar(count) or 0
    found = db.session.execute(page(rows, order, query.limit, query.offset)).all()
    return [item.model_validate(row._mapping) for row in found], total
