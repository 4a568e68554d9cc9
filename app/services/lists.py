"""What every list shares: substring search, sorting with one tie-break, paging, cursors.

A list pages by offset (for compatibility) or by keyset: the response's `next_cursor` names
the last item's position in the order (its sort value and its tie-breaker), signed with
SECRET_KEY so that a client can neither forge nor alter one. The next page starts strictly
after that position, so a walk returns every item once even while others are inserted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    table,
)

from app.database import reading
from app.errors import ValidationFailed
from app.extensions import db
from app.schemas import OrderDirection

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
    return substring_like(column, text)


def _sqlite_trigram_search(column: ColumnElement[str], text: str) -> ColumnElement[bool] | None:
    """Return `row id IN (ids whose column holds text)` by the trigram table, if it has one."""
    clause = column.__clause_element__() if hasattr(column, "__clause_element__") else column
    source = clause.table  # the table, or an alias of it (the guest, the host)
    name = getattr(source, "element", source).name
    search = SQLITE_SEARCH_TABLES.get((name, clause.key))
    if search is None:
        return None
    matches = (
        select(literal_column("id"))
        .select_from(table(search))
        .where(sqlite_trigram_match(search, clause.key, text))
    )
    return source.c.id.in_(matches)


def sqlite_trigram_match(search_table: str, column: str, text: str) -> ColumnElement[bool]:
    """Return `search_table MATCH ...`: its rows whose column holds text, as contains_text does.

    For SQLite's FTS5 trigram tables and texts of 3 characters or more (TRIGRAM); the text is
    one phrase, so every character is literal.
    """
    return literal_column(search_table).match(sqlite_trigram_query(column, text))


def sqlite_trigram_query(column: str, text: str) -> str:
    """Return the FTS5 query of sqlite_trigram_match: column holds text, as one phrase."""
    phrase = '"' + text.replace('"', '""') + '"'
    return f"{column} : {phrase}"


def substring_like(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """Return `lower(column) LIKE '%text%'` (contains_text's shape for PostgreSQL)."""
    return like_pattern(func.lower(column), substring_pattern(text))


def like_pattern(texts: ColumnElement[str], pattern: str | BindParameter) -> ColumnElement[bool]:
    """Return `texts LIKE pattern` for a substring_pattern (or a parameter bound to one)."""
    return texts.like(pattern, escape="\\")


def substring_pattern(text: str) -> str:
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


def page(
    statement: Select,
    order: list[ColumnElement],
    limit: int | BindParameter,
    offset: int | BindParameter,
) -> Select:
    """Return the statement sorted, then cut to one page."""
    return statement.order_by(*order).limit(limit).offset(offset)


@dataclass(frozen=True)
class SortKey:
    """A list's order: one column (an item field) then a unique tie-breaker (an item field)."""

    field: str
    column: ColumnElement
    direction: OrderDirection
    tie_field: str
    tie_breaker: ColumnElement
    never_empty: bool = False

    def order_by(self) -> list[ColumnElement]:
        """Return the ORDER BY clauses (see sort_order)."""
        return sort_order(
            self.column, self.direction, self.tie_breaker, never_empty=self.never_empty
        )

    def after(self, value: Any, tie: uuid.UUID) -> ColumnElement[bool]:
        """Return the condition: the row comes strictly after (value, tie) in this order."""
        descending = self.direction == OrderDirection.DESC
        tie_after = self.tie_breaker < tie if descending else self.tie_breaker > tie
        if value is None:  # empty values come last, in tie-breaker order
            return and_(self.column.is_(None), tie_after)
        value_after = self.column < value if descending else self.column > value
        condition = or_(value_after, and_(self.column == value, tie_after))
        return condition if self.never_empty else or_(condition, self.column.is_(None))

    def name(self) -> str:
        return f"{self.field}:{self.direction.value}"


def changed_since(column: ColumnElement, query: BaseModel) -> list[ColumnElement[bool]]:
    """Return the updated_since condition of a list's query (none when not asked)."""
    since = getattr(query, "updated_since", None)
    return [] if since is None else [column >= since]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="list-cursor")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 2 and value[0] == "t":
        return datetime.fromisoformat(value[1])
    return value


def make_cursor(key: SortKey, item: Any) -> str:
    """Return the signed cursor naming the item's position in the key's order.

    item: a model or a row, whose attributes are the item's fields.
    """
    position = {
        "o": key.name(),
        "v": _encode(getattr(item, key.field)),
        "t": str(getattr(item, key.tie_field)),
    }
    return _serializer().dumps(position)


def read_cursor(key: SortKey, cursor: str) -> ColumnElement[bool]:
    """Return the condition "after the cursor's position", or raise ValidationFailed."""
    try:
        position = _serializer().loads(cursor)
        if position["o"] != key.name():
            raise ValidationFailed.at(
                ["query", "cursor"],
                "This cursor belongs to another order: keep order_by and order_dir of the walk.",
            )
        return key.after(_decode(position["v"]), uuid.UUID(position["t"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ValidationFailed.at(
            ["query", "cursor"], "The cursor is invalid: use a next_cursor as it was returned."
        ) from None


def page_statement(
    rows: Select,
    count: Select,
    key: SortKey,
    limit: int | BindParameter,
    offset: int | BindParameter,
    after: Sequence[ColumnElement[bool]] = (),
) -> Select:
    """Return one page's statement: the rows after `after`, sorted and cut, then the count.

    One round trip: the count rides along as the page's last column.
    """
    return page(rows.where(*after), key.order_by(), limit, offset).add_columns(
        count.correlate(None).scalar_subquery().label("total_items")
    )


# The names of the page's limit and offset in a statement built beforehand (page_rows).
# Written into the SQL (literal_execute), the way PostgreSQL then plans the prepared statement
# once (a generic plan): with LIMIT a parameter, it estimated a generic plan costlier and
# planned each call anew, a fifth of the statement's time.
PAGE_LIMIT = bindparam("page_limit", type_=Integer, literal_execute=True)
PAGE_OFFSET = bindparam("page_offset", type_=Integer, literal_execute=True)


def page_rows(
    rows: Select,
    count: Select,
    key: SortKey,
    query: BaseModel,
    *,
    statement: Select | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[list[str], list[Row], int, str | None]:
    """Return one page as read: the item fields, their rows, how many match in all, the cursor.

    rows selects the item's fields and count the number of matches, both already filtered;
    both run as one statement. The next cursor is None on the last page. A query with a
    cursor starts after it (keyset paging); the total still counts every match. Each row
    holds the fields in order, then the count.

    statement: the page's statement built beforehand (page_statement of rows and count with
    PAGE_LIMIT and PAGE_OFFSET, for a query without a cursor), params the values of the bound
    parameters of rows and count: a list of a frequent shape is then not built again on each
    call, which cost as much Python time as reading its rows.
    """
    cursor = getattr(query, "cursor", None)
    if cursor is not None and query.offset:
        raise ValidationFailed.at(["query", "offset"], "Page with cursor or offset, not both.")
    # One row more than the page tells whether there is a next page.
    if statement is None:
        after = [read_cursor(key, cursor)] if cursor is not None else []
        statement = page_statement(rows, count, key, query.limit + 1, query.offset, after)
        values: dict[str, Any] = dict(params or {})
    elif cursor is None:
        values = {**(params or {}), "page_limit": query.limit + 1, "page_offset": query.offset}
    else:
        raise ValueError("a statement built beforehand pages without a cursor")
    # Core rows, not the ORM session's: its result loading was an eighth of a PostgreSQL list.
    with reading() as database:
        result = database.execute(statement, values)
        fields = list(result.keys())[:-1]
        found = result.all()
        if found:
            total = found[0][-1]
        elif cursor is None and not query.offset:
            total = 0  # the first page is empty: nothing matches
        else:  # a page past the last match has no row to carry the count: ask for it alone
            total = database.scalar(count, dict(params or {})) or 0
    # A row names its fields like the item does, so the cursor reads the last one directly.
    next_cursor = make_cursor(key, found[query.limit - 1]) if len(found) > query.limit else None
    return fields, found[: query.limit], total, next_cursor


def one_page(
    rows: Select, count: Select, key: SortKey, query: BaseModel, item: type[ItemT]
) -> tuple[list[ItemT], int, str | None]:
    """Return one page of rows (as item models), how many match in all, and the next cursor.

    See page_rows: the same page, each row validated as an item.
    """
    fields, found, total, next_cursor = page_rows(rows, count, key, query)
    return as_items(fields, found, item), total, next_cursor


def as_items(fields: Sequence[str], rows: Sequence[Row], item: type[ItemT]) -> list[ItemT]:
    """Return page_rows' rows validated as item models (the fields lead each row)."""
    return [item.model_validate(dict(zip(fields, row, strict=False))) for row in rows]
