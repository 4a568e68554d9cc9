"""How pages write times and scores: relative times rounded to the nearest unit; one format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.web.filters import relative_time, score_text

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(days=14) - timedelta(seconds=5), "in 2 weeks"),
        (timedelta(days=14), "in 2 weeks"),
        (timedelta(days=7), "in 1 week"),
        (timedelta(days=13), "in 2 weeks"),
        (timedelta(days=6, hours=20), "in 7 days"),
        (timedelta(days=30), "in 1 month"),
        (timedelta(hours=1, minutes=40), "in 2 hours"),
        (-timedelta(days=1, hours=20), "2 days ago"),
        (-timedelta(days=400), "1 year ago"),
    ],
)
def test_relative_times_round_to_the_nearest_unit(offset, expected):
    assert relative_time(NOW + offset, now=NOW) == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [(55.55, "55.55"), (87.5, "87.5"), (88.0, "88"), (0.0, "0"), (12.345, "12.35")],
)
def test_one_score_format(score, expected):
    assert score_text(score) == expected
