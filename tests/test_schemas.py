"""The contract's shared formats (app/schemas.py)."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.schemas import format_timestamp

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2025, 12, 12, 10, 30, 0, 123456, tzinfo=UTC), "2025-12-12T10:30:00.123456Z"),
        (datetime(2025, 12, 12, 10, 30, tzinfo=UTC), "2025-12-12T10:30:00.000000Z"),
        (datetime(2025, 12, 12, 10, 30, tzinfo=ZoneInfo("UTC")), "2025-12-12T10:30:00.000000Z"),
        (datetime(2025, 1, 1, 1, tzinfo=PLUS_TWO), "2024-12-31T23:00:00.000000Z"),
        (datetime(999, 1, 1, tzinfo=UTC), "0999-01-01T00:00:00.000000Z"),
    ],
    ids=["utc", "no-microseconds", "zoneinfo-utc", "other-zone", "year-999"],
)
def test_timestamps_are_rfc3339_in_utc_with_microseconds(moment, text):
    assert format_timestamp(moment) == text
