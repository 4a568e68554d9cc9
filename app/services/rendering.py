"""JSON of list pages straight from database rows, equal byte for byte to the models' JSON.

A list of 50 guest connections built as pydantic models (validated field by field) and then
serialized (a Python call per timestamp) cost most of the list's Python time. What a list
shows was validated when it was written, so the API renders its rows directly: each value
becomes what the model's serializer would write (ids and enums as text, timestamps as
format_timestamp writes them), and pydantic-core's own encoder writes the JSON, so strings and
numbers are written exactly as model_dump_json() writes them. tests/services/test_rendering.py
holds the two outputs equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import to_json

from app import schemas

# The item's fields, in the model's order (the JSON keys come in this order), and those that
# are timestamps. pydantic-core's encoder writes the others as the model's serializer does:
# ids as their text, enums as their values, text, numbers, booleans and nulls.
_GUEST_CONNECTION_FIELDS = list(schemas.GuestConnection.model_fields)
_GUEST_CONNECTION_TIMESTAMPS = (
    "created_at",
    "updated_at",
    "score_updated_at",
    "archived_at",
    "active_action_updated_at",
)
if list(schemas.GuestConnectionList.model_fields) != ["items", "total_items", "next_cursor"]:
    raise RuntimeError("rendering must follow schemas.GuestConnectionList: update it")


def guest_connection_list_json(
    fields: Sequence[str], rows: Sequence[Sequence[Any]], total: int, next_cursor: str | None
) -> bytes:
    """Return the JSON of schemas.GuestConnectionList for rows holding its items' fields.

    fields names the rows' leading values (lists.page_rows); they must be the item's fields,
    in its order (any further value, such as the count, is ignored).
    """
    if list(fields) != _GUEST_CONNECTION_FIELDS:
        raise ValueError(f"rows must hold the guest connection's fields in order, not {fields}")
    items = []
    for row in rows:
        item = dict(zip(_GUEST_CONNECTION_FIELDS, row, strict=False))
        for name in _GUEST_CONNECTION_TIMESTAMPS:
            value = item[name]
            if value is not None:
                item[name] = schemas.format_timestamp(value)
        items.append(item)
    return to_json({"items": items, "total_items": total, "next_cursor": next_cursor})
